/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * raii: libmailconn from C++ through std::unique_ptr owners and a thin
 * wrapper that turns caller errors into exceptions. Plain C++11.
 */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include <mailconn.h>

namespace mailconn {

/* A caller error (bad option, missing setting...), never a verification
 * outcome: a mailbox that fails the check is a normal result. */
class Error : public std::runtime_error {
public:
	Error(mailconn_error code, const std::string &what)
		: std::runtime_error(std::string(mailconn_error_name(code)) +
		                     ": " + what),
		  code_(code)
	{
	}
	mailconn_error code() const noexcept { return code_; }

private:
	mailconn_error code_;
};

/* The library's free functions as deleters: stateless, so the pointers
 * stay the size of a raw pointer, and both accept NULL. */
struct ConfigFree {
	void operator()(mailconn_config *c) const noexcept
	{
		mailconn_config_free(c);
	}
};
struct SessionFree {
	void operator()(mailconn_session *s) const noexcept
	{
		mailconn_session_free(s);
	}
};
using ConfigPtr = std::unique_ptr<mailconn_config, ConfigFree>;
using SessionPtr = std::unique_ptr<mailconn_session, SessionFree>;

class Config {
public:
	Config() : cfg_(mailconn_config_new())
	{
		if (!cfg_)
			throw std::bad_alloc();
	}

	Config &set(mailconn_option option, const std::string &value)
	{
		check(mailconn_config_set_string(cfg_.get(), option,
		                                 value.c_str()));
		return *this;
	}
	Config &set(mailconn_option option, std::int64_t value)
	{
		check(mailconn_config_set_int(cfg_.get(), option, value));
		return *this;
	}

	mailconn_config *get() const noexcept { return cfg_.get(); }

private:
	void check(mailconn_error rc) const
	{
		/* mailconn_config_error() names the option and what is wrong. */
		if (rc != MAILCONN_OK)
			throw Error(rc, mailconn_config_error(cfg_.get()));
	}

	ConfigPtr cfg_;
};

using Progress = std::function<void(mailconn_stage, bool finished,
                                    mailconn_error)>;

/*
 * The C library calls back through a plain function with C linkage.
 * Exceptions must not unwind through C frames, so one thrown by the
 * user's callback is parked here and rethrown once the step returns.
 */
struct ProgressHook {
	Progress fn;
	std::exception_ptr failure;
};

extern "C" {
static void
progress_trampoline(mailconn_session *, void *userdata, mailconn_stage stage,
                    int finished, mailconn_error outcome)
{
	ProgressHook *hook = static_cast<ProgressHook *>(userdata);
	if (hook->failure)
		return;
	try {
		hook->fn(stage, finished != 0, outcome);
	} catch (...) {
		hook->failure = std::current_exception();
	}
}
}

class Session {
public:
	/*
	 * The callback is registered on the session itself, so the Config
	 * stays untouched and may be shared. The hook lives on the heap so
	 * that moving the Session does not move it.
	 */
	explicit Session(const Config &cfg, Progress progress = Progress())
	{
		mailconn_session *raw = nullptr;
		mailconn_error rc = mailconn_session_new(cfg.get(), &raw);
		if (rc != MAILCONN_OK) {
			char why[256];
			mailconn_config_check(cfg.get(), why, sizeof why);
			throw Error(rc, why);
		}
		session_.reset(raw);
		if (progress) {
			hook_.reset(new ProgressHook{ std::move(progress), nullptr });
			mailconn_session_set_progress(raw, progress_trampoline,
			                              hook_.get());
		}
	}

	/* Blocking: fine for a command-line tool or a worker thread. An event
	 * loop would call mailconn_session_step() instead (see poll-many.c). */
	mailconn_error run()
	{
		mailconn_error outcome = mailconn_session_run(session_.get());
		if (hook_ && hook_->failure)
			std::rethrow_exception(hook_->failure);
		return outcome;
	}

	/* Copies: the library's strings only last until the next step. */
	std::string hint() const { return mailconn_session_hint(get()); }
	std::string detail() const { return mailconn_session_detail(get()); }
	std::string server_reply() const
	{
		return mailconn_session_server_reply(get());
	}
	std::string fact(mailconn_stage stage, mailconn_fact fact) const
	{
		return mailconn_session_fact(get(), stage, fact);
	}
	mailconn_error outcome() const { return mailconn_session_outcome(get()); }
	mailconn_cause cause() const { return mailconn_session_cause(get()); }
	mailconn_stage stage() const { return mailconn_session_stage(get()); }
	int passed(mailconn_stage s) const
	{
		return mailconn_session_stage_passed(get(), s);
	}
	std::int64_t ms(mailconn_stage s) const
	{
		return mailconn_session_stage_ms(get(), s);
	}

	const mailconn_session *get() const noexcept { return session_.get(); }

private:
	/* Declared first, destroyed last: outlives the session it serves. */
	std::unique_ptr<ProgressHook> hook_;
	SessionPtr session_;
};

} // namespace mailconn

namespace {

const char *const fact_names[] = {
	"address", "tls_version", "tls_cipher", "cert_sha256",
	"capabilities", "auth_mechanism", "cert_subject", "message_id",
};

/* "--imap-port 993" -> set(MAILCONN_OPT_IMAP_PORT, 993) by the library's
 * own names; "--password-env VAR" reads the password from VAR. */
void
apply_option(mailconn::Config &cfg, const std::string &flag,
             const std::string &value)
{
	if (flag == "password-env") {
		const char *password = std::getenv(value.c_str());
		if (!password)
			throw std::runtime_error("--password-env: " + value +
			                         " is not set");
		cfg.set(MAILCONN_OPT_PASSWORD, password);
		return;
	}
	std::string name = flag;
	for (char &ch : name)
		if (ch == '-')
			ch = '_';
	int id = mailconn_option_from_name(name.c_str());
	if (id < 0)
		throw std::runtime_error("--" + flag + ": unknown option");
	/* Anyone on the machine can read another process's argv. */
	if (id == MAILCONN_OPT_PASSWORD || id == MAILCONN_OPT_SMTP_PASSWORD ||
	    id == MAILCONN_OPT_OAUTH2_TOKEN)
		throw std::runtime_error("--" + flag + ": secrets are not taken "
		                         "from the command line");
	mailconn_option option = static_cast<mailconn_option>(id);
	if (id < 100) {
		cfg.set(option, value);
		return;
	}

	if (option == MAILCONN_OPT_IMAP_SECURITY ||
	    option == MAILCONN_OPT_SMTP_SECURITY) {
		static const char *const names[] = { "auto", "tls", "starttls",
		                                     "plain" };
		for (int i = 0; i < 4; i++) {
			if (value == names[i]) {
				cfg.set(option, std::int64_t{ i });
				return;
			}
		}
		throw std::runtime_error("--" + flag + ": expected auto, tls, "
		                         "starttls or plain");
	}
	std::size_t used = 0;
	long long n = 0;
	try {
		n = std::stoll(value, &used);
	} catch (const std::logic_error &) {
		used = 0;
	}
	if (used == 0 || used != value.size())
		throw std::runtime_error("--" + flag + ": not a number: " + value);
	cfg.set(option, std::int64_t{ n });
}

void
print_report(const mailconn::Session &s)
{
	mailconn_error outcome = s.outcome();
	std::cout << "outcome: " << mailconn_error_name(outcome) << '\n';
	if (outcome != MAILCONN_OK) {
		std::cout << "failed stage: " << mailconn_stage_name(s.stage())
		          << '\n'
		          << "cause: " << mailconn_cause_name(s.cause()) << '\n'
		          << "server reply: " << s.server_reply() << '\n'
		          << "detail: " << s.detail() << '\n'
		          << "hint: " << s.hint() << '\n';
	}

	for (int i = MAILCONN_STAGE_IMAP_CONNECT; i <= MAILCONN_STAGE_TEST_SEND;
	     i++) {
		mailconn_stage stage = static_cast<mailconn_stage>(i);
		int passed = s.passed(stage);
		std::cout << "stage " << i << ' ' << mailconn_stage_name(stage)
		          << ": ";
		if (passed < 0) {
			std::cout << "not run\n";
			continue;
		}
		std::cout << (passed ? "passed" : "failed") << " (" << s.ms(stage)
		          << " ms)\n";
		for (int f = 0; f < 8; f++) {
			std::string v = s.fact(stage, static_cast<mailconn_fact>(f));
			if (v.empty())
				continue;
			/* SMTP capabilities come one per line. */
			for (char &ch : v)
				if (ch == '\n')
					ch = ' ';
			std::cout << "  " << fact_names[f] << ": " << v << '\n';
		}
	}
}

} // namespace

int
main(int argc, char **argv)
{
	try {
		mailconn::Config cfg;
		for (int i = 1; i < argc; i += 2) {
			if (std::strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc)
				throw std::runtime_error(
					"usage: raii --email ADDR --password-env VAR "
					"--imap-host HOST ... (any option as --name VALUE)");
			apply_option(cfg, argv[i] + 2, argv[i + 1]);
		}

		mailconn::Session session(cfg, [](mailconn_stage stage,
		                                  bool finished,
		                                  mailconn_error outcome) {
			if (finished)
				std::cout << "progress: " << mailconn_stage_name(stage)
				          << " " << mailconn_error_name(outcome) << '\n';
		});
		mailconn_error outcome = session.run();
		print_report(session);
		return outcome == MAILCONN_OK ? 0 : 1;
	} catch (const std::exception &e) {
		// Config, Session and their C handles are already freed here.
		std::cerr << "raii: " << e.what() << '\n';
		return 2;
	}
}
