// SPDX-License-Identifier: LGPL-2.1-or-later
// The public header must compile as C++11 and link with C linkage.
#include <mailconn.h>

#include <cstring>
#include <memory>

int
main()
{
	std::unique_ptr<mailconn_config, decltype(&mailconn_config_free)> cfg(
		mailconn_config_new(), &mailconn_config_free);
	if (!cfg)
		return 1;
	if (mailconn_config_set_string(cfg.get(), MAILCONN_OPT_IMAP_HOST,
	                               "imap.example.com") != MAILCONN_OK)
		return 1;
	return std::strcmp(mailconn_error_name(MAILCONN_APP_PASSWORD),
	                   "APP_PASSWORD") == 0 ? 0 : 1;
}
