/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Norsk bokmål: every outcome message and every hint, with the keys and
 * placeholders of hints-en.c (test-lang checks both). Written for end
 * users from the meaning of the English advice, not translated word for
 * word; product and menu names stay as the provider shows them.
 */
#include "proto/lang.h"

static const struct mailconn__message_text messages[] = {
	{ MAILCONN_OK, "alle fem trinnene gikk bra" },
	{ MAILCONN_IMAP_SETTINGS,
	  "får ikke koblet til IMAP-serveren på oppgitt servernavn og port" },
	{ MAILCONN_IMAP_AUTH,
	  "IMAP-serveren avviste påloggingen uten å si hvorfor" },
	{ MAILCONN_IMAP_VALIDATION,
	  "IMAP-tilkoblingen kunne ikke valideres" },
	{ MAILCONN_SMTP_SETTINGS,
	  "får ikke koblet til eller logget på SMTP-serveren på oppgitt "
	  "servernavn og port" },
	{ MAILCONN_TEST_SEND, "SMTP-serveren avviste testmeldingen" },
	{ MAILCONN_UNAUTHORIZED,
	  "serveren sier at påloggingsopplysningene er feil" },
	{ MAILCONN_APP_PASSWORD, "leverandøren krever et appspesifikt passord" },
	{ MAILCONN_UNTRUSTED_CERT, "serverens sertifikat er ikke klarert" },
	{ MAILCONN_E_INVALID_CONFIG, "en innstilling har ugyldig verdi" },
	{ MAILCONN_E_NOMEM, "ikke nok minne" },
	{ MAILCONN_E_INVALID_ARGUMENT, "et påkrevd argument mangler" },
	{ MAILCONN_E_UNKNOWN_OPTION,
	  "denne versjonen kjenner ikke til innstillingen" },
	{ MAILCONN_E_OPTION_TYPE,
	  "innstillingen skal ha en verdi av den andre typen (tekst eller "
	  "tall)" },
	{ MAILCONN_E_MISSING_OPTION, "en påkrevd innstilling mangler" },
	{ MAILCONN_E_SYSTEM,
	  "kunne ikke opprette eller vente på en systemressurs" },
	{ MAILCONN_E_PENDING, "kontrollen er ikke ferdig ennå" },
	{ MAILCONN_E_CANCELLED, "kontrollen ble avbrutt før den var ferdig" },
};

#define H(o, c, text) { MAILCONN_##o, MAILCONN_CAUSE_##c, NULL, text }
#define HA(c, text) { MAILCONN__ANY_OUTCOME, MAILCONN_CAUSE_##c, NULL, text }
#define HP(o, c, prov, text) { MAILCONN_##o, MAILCONN_CAUSE_##c, prov, text }

static const struct mailconn__hint_text hints[] = {
	/* ---- Hvert utfall generelt (mailconn_error_hint). ---- */
	H(IMAP_SETTINGS, NONE,
	  "Kontroller navnet på IMAP-serveren, porten (som regel 993 med TLS "
	  "eller 143 med STARTTLS) og sikkerhetsinnstillingen. Sjekk også at "
	  "serveren oppfyller de tekniske kravene for IMAP. Noen servere "
	  "godtar bare tilkoblinger fra bestemte IP-adresser; i så fall må "
	  "IT-avdelingen åpne for adressen du kobler til fra."),
	H(IMAP_AUTH, NONE,
	  "IMAP-serveren avviste påloggingen uten å oppgi grunnen. Kontroller "
	  "IMAP-serveren og porten (993 eller 143), og deretter adressen og "
	  "passordet. Spør IT-avdelingen eller leverandøren hva avvisningen "
	  "betyr. Vanlige årsaker er at serveren bare godtar pålogging fra "
	  "bestemte IP-adresser, at postkassen har for mange samtidige "
	  "tilkoblinger, eller at kontoen er midlertidig sperret etter "
	  "mislykkede forsøk."),
	H(IMAP_VALIDATION, NONE,
	  "IMAP-serveren svarte, men tilkoblingen kunne ikke valideres. "
	  "Kontroller servernavnet og porten (993 eller 143), og at serveren "
	  "og postkassen oppfyller kravene for IMAP. Spør også IT-avdelingen "
	  "om IMAP-tjenesten bare godtar tilkoblinger fra bestemte "
	  "IP-adresser."),
	H(SMTP_SETTINGS, NONE,
	  "Kontroller navnet på SMTP-serveren, porten (som regel 465 med TLS "
	  "eller 587 med STARTTLS) og sikkerhetsinnstillingen. Sjekk at "
	  "serveren tar imot e-post fra påloggede brukere, og spør "
	  "IT-avdelingen om den bare godtar tilkoblinger fra bestemte "
	  "IP-adresser."),
	H(TEST_SEND, NONE,
	  "Påloggingen virket, men serveren avviste testmeldingen. Sjekk at "
	  "kontoen har lov til å sende fra denne adressen og at mottakeren "
	  "blir godtatt, og spør IT-avdelingen om bare bestemte IP-adresser "
	  "får sende e-post gjennom serveren."),
	H(UNAUTHORIZED, NONE,
	  "Serveren sier at påloggingsopplysningene er feil. Kontroller "
	  "e-postadressen og passordet, finn ut om serveren krever et eget "
	  "brukernavn, og sjekk om leverandøren krever et appspesifikt "
	  "passord. Er opplysningene riktige, kan du spørre IT-avdelingen om "
	  "serveren bare godtar pålogging fra bestemte IP-adresser."),
	H(APP_PASSWORD, NONE,
	  "Denne leverandøren krever et appspesifikt passord. Lag et i "
	  "sikkerhetsinnstillingene for kontoen etter leverandørens "
	  "veiledning, og skriv det inn her i stedet for det vanlige "
	  "passordet."),
	H(UNTRUSTED_CERT, NONE,
	  "Serverens sertifikat kan ikke godtas: det er ugyldig, utløpt, "
	  "utstedt for et annet navn eller signert av en ukjent utsteder. Be "
	  "administratoren av serveren rette det. Bare hvis du stoler på "
	  "serveren, kan du eksplisitt tillate et sertifikat som ikke er "
	  "klarert."),

	/* ---- Presisert etter årsak. ---- */
	HA(DNS_NOT_FOUND,
	   "Servernavnet finnes ikke i DNS. Sjekk stavemåten og domenet (for "
	   "eksempel imap.example.com eller smtp.example.com)."),
	HA(DNS_TEMPORARY,
	   "Servernavnet kunne ikke slås opp akkurat nå. Sjekk DNS på dette "
	   "nettverket og prøv igjen; kontroller navnet hvis feilen varer."),
	HA(DNS_FAILED,
	   "Servernavnet kunne ikke slås opp. Sjekk stavemåten og DNS på "
	   "dette nettverket."),
	H(IMAP_SETTINGS, CONNECT_REFUSED,
	  "Ingenting tar imot tilkoblinger på port {port}. Kontroller porten "
	  "(som regel 993 for TLS eller 143 for STARTTLS) og at serveren "
	  "kjører IMAP."),
	H(SMTP_SETTINGS, CONNECT_REFUSED,
	  "Ingenting tar imot tilkoblinger på port {port}. Kontroller porten "
	  "(som regel 465 for TLS eller 587 for STARTTLS) og at serveren tar "
	  "imot e-post til sending."),
	HA(CONNECT_UNREACHABLE,
	   "Serveren kan ikke nås herfra. Kontroller servernavnet og porten, "
	   "og finn ut om en brannmur stopper tilkoblingen eller om serveren "
	   "bare godtar bestemte IP-adresser."),
	HA(CONNECT_TIMEOUT,
	   "Serveren svarte ikke i tide. Kontroller servernavnet og porten, "
	   "og finn ut om en brannmur i det stille forkaster tilkoblingen eller om "
	   "serveren bare godtar bestemte IP-adresser."),
	HA(CONNECTION_CLOSED,
	   "Serveren brøt tilkoblingen uventet. Kontroller porten og "
	   "sikkerhetsinnstillingen, og spør IT-avdelingen om serveren bare "
	   "godtar bestemte IP-adresser eller begrenser antall tilkoblinger."),
	HA(TIMEOUT,
	   "Serveren sluttet å svare. Prøv igjen, og sjekk om en brannmur "
	   "eller et tregt nettverk er i veien."),
	HA(TLS_HANDSHAKE_TIMEOUT,
	   "Serveren godtok tilkoblingen på port {port}, men fullførte aldri "
	   "oppsettet av krypteringen. Kontroller at porten tilhører "
	   "e-postserveren, og spør IT-avdelingen om en brannmur eller proxy "
	   "holder igjen tilkoblingen."),
	HA(GREETING_TIMEOUT,
	   "Serveren godtok tilkoblingen på port {port}, men hilste aldri. Slik "
	   "oppfører en port seg som venter TLS fra første stund, når "
	   "sikkerhetsinnstillingen er STARTTLS eller ingen: velg TLS for 993 "
	   "eller 465. Ellers må du kontrollere at porten tilhører "
	   "e-postserveren."),
	H(IMAP_SETTINGS, TLS_MODE_MISMATCH,
	  "Sikkerhetsinnstillingen passer ikke til port {port}, som krever "
	  "{wanted}. Velg {wanted} for denne porten, eller bruk port 993 med "
	  "TLS eller port 143 med STARTTLS."),
	H(SMTP_SETTINGS, TLS_MODE_MISMATCH,
	  "Sikkerhetsinnstillingen passer ikke til port {port}, som krever "
	  "{wanted}. Velg {wanted} for denne porten, eller bruk port 465 med "
	  "TLS eller port 587 med STARTTLS."),
	H(IMAP_SETTINGS, WRONG_PROTOCOL,
	  "Port {port} svarte med en annen protokoll (for eksempel SMTP eller "
	  "POP3). Bruk serverens IMAP-port, som regel 993 eller 143."),
	H(SMTP_SETTINGS, WRONG_PROTOCOL,
	  "Port {port} svarte med en annen protokoll (for eksempel IMAP eller "
	  "POP3). Bruk serverens SMTP-port for innsending, som regel 465 "
	  "eller 587."),
	HA(TLS_HANDSHAKE,
	   "Den sikre tilkoblingen kunne ikke settes opp. Sjekk at porten "
	   "passer til sikkerhetsinnstillingen, og at TLS-oppsettet på "
	   "serveren virker."),
	HA(TLS_VERSION,
	   "Serveren og denne klienten har ingen moderne TLS-versjon (1.2 "
	   "eller nyere) eller chiffer til felles. Serveren må oppdateres; ta "
	   "kontakt med administratoren."),
	H(IMAP_VALIDATION, STARTTLS_UNAVAILABLE,
	  "Serveren tilbyr ikke STARTTLS på port {port}, så passordet kan "
	  "ikke beskyttes. Bruk port 993 med TLS, eller be administratoren "
	  "slå på STARTTLS."),
	H(SMTP_SETTINGS, STARTTLS_UNAVAILABLE,
	  "Serveren tilbyr ikke STARTTLS på port {port}, så passordet kan "
	  "ikke beskyttes. Bruk port 465 med TLS eller port 587 med "
	  "STARTTLS."),
	HA(STARTTLS_REFUSED,
	   "Serveren oppga at den støtter STARTTLS, men avviste det. Bruk "
	   "porten med TLS fra start (993 for IMAP, 465 for SMTP), eller "
	   "kontakt administratoren."),
	HA(STARTTLS_INJECTION,
	   "Det kom data før krypteringen startet, noe som tyder på at noen "
	   "har tuklet med tilkoblingen. Bruk TLS fra start (993 eller 465), "
	   "og be IT-avdelingen undersøke nettverket."),
	H(UNTRUSTED_CERT, CERT_UNTRUSTED,
	  "Sertifikatet er signert av en utsteder dette systemet ikke stoler "
	  "på (selvsignert eller en intern sertifikatutsteder). Legg til "
	  "utstederens sertifikat, få installert et offentlig klarert "
	  "sertifikat, eller, hvis du stoler på serveren, tillat eksplisitt "
	  "et sertifikat som ikke er klarert."),
	H(UNTRUSTED_CERT, CERT_EXPIRED,
	  "Serverens sertifikat har gått ut, og administratoren må fornye "
	  "det. Inntil da kan du, bare hvis du stoler på serveren, "
	  "eksplisitt tillate et sertifikat som ikke er klarert."),
	H(UNTRUSTED_CERT, CERT_NOT_YET_VALID,
	  "Serverens sertifikat er ikke gyldig ennå. Sjekk dato og klokkeslett "
	  "på denne maskinen; stemmer de, må administratoren rette "
	  "sertifikatet."),
	H(UNTRUSTED_CERT, CERT_HOSTNAME,
	  "Sertifikatet er utstedt for andre navn enn servernavnet du skrev "
	  "inn. Bruk et navn som står i sertifikatet (ofte leverandørens eget "
	  "servernavn), eller få utstedt et nytt sertifikat."),
	H(UNTRUSTED_CERT, CERT_INSECURE_ALGORITHM,
	  "Sertifikatet bygger på en algoritme som er for svak til å stole på "
	  "(for eksempel SHA-1 eller en kort nøkkel). Administratoren må "
	  "bytte det ut."),
	H(UNTRUSTED_CERT, CERT_MALFORMED,
	  "Serverens sertifikat kunne ikke leses. Administratoren må "
	  "installere et gyldig sertifikat."),
	H(UNTRUSTED_CERT, CERT_PURPOSE,
	  "Sertifikatet er ikke laget for en TLS-server. Administratoren må "
	  "installere et serversertifikat."),
	H(UNTRUSTED_CERT, CERT_PIN_MISMATCH,
	  "Serveren viste et annet sertifikat enn det du valgte å godta. Har "
	  "administratoren byttet det ut, må du få bekreftet det nye "
	  "fingeravtrykket av dem før du godtar det. Ellers kan noen avlytte "
	  "forbindelsen, så ikke logg inn."),
	HA(PROTOCOL_ERROR,
	   "Svaret fra serveren fulgte ikke protokollen. Sjekk at server og "
	   "port peker på riktig type e-postserver, og at "
	   "sikkerhetsinnstillingen passer til porten."),
	H(IMAP_VALIDATION, GREETING_REJECTED,
	  "IMAP-serveren nektet å betjene oss med en gang vi koblet til (den "
	  "er opptatt, eller stenger ute dette nettverket). Prøv igjen "
	  "senere, og spør IT-avdelingen om serveren bare godtar bestemte "
	  "IP-adresser."),
	H(SMTP_SETTINGS, GREETING_REJECTED,
	  "SMTP-serveren nektet å betjene oss med en gang vi koblet til (den "
	  "er opptatt, eller stenger ute dette nettverket). Kontroller "
	  "porten (465 eller 587), og spør IT-avdelingen om serveren bare "
	  "godtar bestemte IP-adresser."),
	HA(LINE_TOO_LONG,
	   "Serveren sendte en linje som er lengre enn en e-postserver noen "
	   "gang skal sende. Sjekk at porten tilhører en e-postserver."),
	H(IMAP_VALIDATION, NO_IMAP4REV1,
	  "Serveren støtter ikke IMAP4rev1, som er påkrevd. Kontroller porten, "
	  "og spør administratoren om en standard IMAP-server."),
	H(IMAP_VALIDATION, MAILBOX_UNAVAILABLE,
	  "Påloggingen virket, men innboksen (INBOX) kunne ikke åpnes. Sjekk "
	  "at postkassen finnes og er slått på for IMAP, og kontakt "
	  "administratoren."),
	H(IMAP_VALIDATION, SERVER_BYE,
	  "Serveren avsluttet økten (BYE) før kontrollen var ferdig. Skjer "
	  "det rett etter en vellykket pålogging, er postkassen kanskje ikke "
	  "satt opp for IMAP på denne serveren. Be administratoren se i "
	  "serverens logg."),
	HA(UNEXPECTED_PREAUTH,
	   "Serveren logget oss inn uten passord over en ubeskyttet "
	   "tilkobling, så den kan ikke kontrolleres. Bruk port 993 med TLS."),
	H(SMTP_SETTINGS, EHLO_REJECTED,
	  "SMTP-serveren avviste hilsenen vår (EHLO). Kontroller porten (465 "
	  "eller 587), og spør IT-avdelingen om serveren bare godtar "
	  "bestemte IP-adresser."),
	H(APP_PASSWORD, AUTH_WEB_LOGIN_REQUIRED,
	  "Leverandøren vil at du bekrefter denne påloggingen i en nettleser. "
	  "Logg på nettstedet deres, godkjenn sikkerhetsvarselet og prøv "
	  "igjen. Har du totrinnsbekreftelse, lager du et appspesifikt "
	  "passord og bruker det her."),
	H(IMAP_SETTINGS, AUTH_PRIVACY_REQUIRED,
	  "Serveren godtar pålogging bare over en kryptert tilkobling. Bruk "
	  "port 993 med TLS, eller STARTTLS på port 143."),
	H(SMTP_SETTINGS, AUTH_PRIVACY_REQUIRED,
	  "Serveren godtar pålogging bare over en kryptert tilkobling. Bruk "
	  "port 465 med TLS, eller STARTTLS på port 587."),
	HA(AUTH_INSECURE,
	   "Tilkoblingen er ikke kryptert, så passordet ble ikke sendt. Velg "
	   "TLS eller STARTTLS i sikkerhetsinnstillingen."),
	H(IMAP_VALIDATION, AUTH_NO_MECHANISM,
	  "IMAP-serveren tilbyr ingen påloggingsmetode som denne klienten "
	  "støtter (LOGIN, PLAIN, SCRAM-SHA-256, XOAUTH2 eller OAUTHBEARER). "
	  "Be administratoren slå på en av dem, eller prøv den andre "
	  "sikkerhetsinnstillingen."),
	H(SMTP_SETTINGS, AUTH_NO_MECHANISM,
	  "SMTP-serveren tilbyr ingen påloggingsmetode som denne klienten "
	  "støtter (PLAIN, LOGIN, SCRAM-SHA-256, XOAUTH2 eller OAUTHBEARER) "
	  "på denne porten. Bruk innsendingsporten (587 med STARTTLS eller "
	  "465 med TLS), eller be administratoren slå på en av dem."),
	H(IMAP_VALIDATION, AUTH_NOT_OFFERED,
	  "IMAP-serveren tar ikke imot pålogging på port {port}. Kontroller "
	  "porten (993 med TLS eller 143 med STARTTLS), og spør "
	  "administratoren om IMAP-pålogging er slått på for kontoen."),
	H(SMTP_SETTINGS, AUTH_NOT_OFFERED,
	  "Port {port} tar ikke imot pålogging (ofte port 25 eller en ren "
	  "videresendingstjeneste). Bruk port 587 med STARTTLS eller 465 med "
	  "TLS."),
	H(UNAUTHORIZED, AUTH_ACCOUNT_DISABLED,
	  "Serveren sier at kontoen er deaktivert, låst eller suspendert. "
	  "Logg på leverandørens nettsted, eller be administratoren låse den "
	  "opp."),
	H(UNAUTHORIZED, AUTH_PROTOCOL_DISABLED,
	  "IMAP- eller SMTP-tilgang er slått av for denne kontoen. Slå den på "
	  "i leverandørens e-postinnstillinger (ofte kalt «IMAP-tilgang» "
	  "eller «autentisert SMTP») eller be administratoren om det, og "
	  "sjekk passordet også."),
	H(IMAP_AUTH, AUTH_PROTOCOL_DISABLED,
	  "IMAP-tilgang ser ut til å være slått av for denne kontoen. Slå den "
	  "på i leverandørens e-postinnstillinger, eller be administratoren "
	  "om det."),
	H(IMAP_AUTH, AUTH_REJECTED,
	  "IMAP-serveren avviste påloggingen, men sa ikke at passordet er "
	  "feil (og de samme opplysningene kan virke for SMTP). Spør "
	  "IT-avdelingen om IMAP er slått på for kontoen, om IMAP krever et "
	  "annet brukernavn, eller om IMAP bare godtar pålogging fra "
	  "bestemte IP-adresser."),
	H(IMAP_AUTH, AUTH_TEMPORARY,
	  "IMAP-serveren kunne ikke kontrollere påloggingen akkurat nå "
	  "(midlertidig feil, vedlikehold eller for mange forsøk). Vent en "
	  "stund og prøv igjen; kontakt leverandøren hvis det ikke går over."),
	H(SMTP_SETTINGS, AUTH_TEMPORARY,
	  "SMTP-serveren kunne ikke kontrollere påloggingen akkurat nå "
	  "(midlertidig feil eller for mange forsøk). Vent en stund og prøv "
	  "igjen; kontakt leverandøren hvis det ikke går over."),
	HA(AUTH_TOO_MANY_CONNECTIONS,
	   "Serveren begrenser hvor mange tilkoblinger en postkasse kan ha "
	   "samtidig. Lukk andre e-postprogrammer eller enheter som bruker "
	   "postkassen, eller vent litt, og prøv igjen; administratoren kan "
	   "heve grensen."),
	HA(AUTH_IP_BLOCKED,
	   "Serveren avviser tilkoblinger fra dette nettverket. Be "
	   "IT-avdelingen åpne for IP-adressen du kobler til fra."),
	HA(AUTH_SERVER_SIGNATURE,
	   "Serveren kunne ikke bevise at den kjenner passordet, så "
	   "tilkoblingen kan være avlyttet. Ikke stol på den, og be "
	   "IT-avdelingen undersøke saken."),
	H(TEST_SEND, SENDER_REJECTED,
	  "Serveren vil ikke sende fra denne adressen med denne påloggingen. "
	  "Bruk postkassens egen adresse, eller få kontoen gitt lov til å "
	  "sende som den (et alias eller «send som»-tillatelse)."),
	H(TEST_SEND, RECIPIENT_REJECTED,
	  "Serveren avviste testmottakeren (BCC-adressen). Sjekk at den er "
	  "riktig stavet og kan motta e-post."),
	H(TEST_SEND, RELAY_DENIED,
	  "Serveren ville ikke videresende til testmottakeren. Enten gjelder "
	  "ikke påloggingen for sending på denne porten, eller bare noen "
	  "IP-adresser får videresende. Bruk innsendingsporten (587 eller "
	  "465), og spør IT-avdelingen om IP-adressen din får sende gjennom "
	  "serveren."),
	H(TEST_SEND, DATA_REJECTED,
	  "Serveren ville ikke ta imot meldingen. Spør leverandøren om "
	  "reglene for sending fra kontoen."),
	H(TEST_SEND, MESSAGE_REJECTED,
	  "Serveren avviste selve meldingen (et filter for regler, innhold "
	  "eller størrelse). Sjekk grensene og reglene for sending fra "
	  "kontoen med leverandøren eller IT-avdelingen."),
	H(TEST_SEND, SEND_TEMPORARY,
	  "Serveren avviste meldingen inntil videre (på grunn av en "
	  "sendegrense, eller fordi serveren er opptatt). Vent og prøv igjen "
	  "senere."),

	/* ---- Presisert etter leverandør: leverandørens egen innstilling. */
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "gmail",
	   "Gmail: slå på totrinnsbekreftelse for Google-kontoen, lag et "
	   "app-passord på myaccount.google.com/apppasswords og skriv inn de "
	   "16 tegnene her. I Google Workspace må administratoren tillate "
	   "dette."),
	HP(APP_PASSWORD, AUTH_WEB_LOGIN_REQUIRED, "gmail",
	   "Gmail har stoppet denne påloggingen til den er bekreftet. Logg på "
	   "accounts.google.com i en nettleser og se på sikkerhetsvarselet. "
	   "Med totrinnsbekreftelse slått på lager du et app-passord på "
	   "myaccount.google.com/apppasswords og bruker det her."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "gmail",
	   "Gmail avviste adressen eller passordet. Over IMAP og SMTP godtar "
	   "Google et app-passord (med totrinnsbekreftelse slått på) eller "
	   "OAuth2, ikke det vanlige kontopassordet. Lag et app-passord på "
	   "myaccount.google.com/apppasswords."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "microsoft365",
	   "Microsoft 365: Har du flerfaktorautentisering, og tillater "
	   "organisasjonen app-passord, lager du et på "
	   "mysignins.microsoft.com (Sikkerhetsinformasjon). Mange "
	   "organisasjoner tillater bare pålogging med OAuth2."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "microsoft365",
	   "Microsoft 365 avviste påloggingen. Kontroller adressen og "
	   "passordet, og spør deretter administratoren om "
	   "basisautentisering er faset ut i organisasjonen (da trengs "
	   "OAuth2), og om SMTP AUTH er slått på for denne postkassen."),
	HP(UNAUTHORIZED, AUTH_PROTOCOL_DISABLED, "microsoft365",
	   "Microsoft 365 har slått av SMTP AUTH eller basisautentisering for "
	   "organisasjonen eller postkassen. En administrator må slå på "
	   "autentisert SMTP for postkassen i administrasjonssenteret for "
	   "Microsoft 365, ellers må appen logge på med OAuth2."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "outlook",
	   "Outlook.com: Har du totrinnsbekreftelse, lager du et app-passord "
	   "under account.microsoft.com > Sikkerhet. Blir også det avvist, "
	   "må kontoen logge på med OAuth2."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "outlook",
	   "Outlook.com avviste påloggingen. Microsoft har faset ut "
	   "passordpålogging for de fleste e-postprogrammer på Outlook.com, "
	   "så som regel trengs OAuth2. Sjekk også adressen og passordet."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "yahoo",
	   "Yahoo Mail godtar ikke kontopassordet i e-postprogrammer. Åpne "
	   "Account Info > Account security, velg Generate app password, og "
	   "skriv inn det passordet her."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "yahoo",
	   "Yahoo Mail avviste påloggingen. Sjekk adressen, og bruk et passord "
	   "laget under Account Info > Account security > Generate app "
	   "password, ikke kontopassordet."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "aol",
	   "AOL Mail godtar ikke kontopassordet i e-postprogrammer. Åpne "
	   "Account Info > Account Security, lag et app-passord, og skriv det "
	   "inn her."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "aol",
	   "AOL Mail avviste påloggingen. Sjekk adressen, og bruk et "
	   "app-passord laget under Account Info > Account Security."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "icloud",
	   "iCloud Mail krever et appspesifikt passord. Logg på "
	   "appleid.apple.com, åpne Pålogging og sikkerhet > Appspesifikke "
	   "passord, lag et og skriv det inn her (tofaktorautentisering må "
	   "være slått på)."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "icloud",
	   "iCloud Mail avviste påloggingen. Bruk iCloud-e-postadressen din "
	   "og et appspesifikt passord laget på appleid.apple.com, aldri "
	   "passordet til Apple-kontoen."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "fastmail",
	   "Fastmail godtar bare app-passord over IMAP og SMTP. Lag et under "
	   "Settings > Privacy & Security > App passwords med tilgang til IMAP "
	   "og SMTP, og skriv det inn her."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "fastmail",
	   "Fastmail avviste påloggingen. Sjekk adressen, og bruk et "
	   "app-passord fra Settings > Privacy & Security, ikke "
	   "kontopassordet."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "zoho",
	   "Zoho Mail: Har du tofaktorautentisering, lager du et "
	   "programspesifikt passord i Zoho Accounts (Security > App "
	   "Passwords) og skriver det inn her."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "zoho",
	   "Zoho Mail avviste påloggingen. Sjekk adressen og passordet, se "
	   "til at IMAP-tilgang er slått på i innstillingene for Zoho Mail, "
	   "og bruk et programspesifikt passord hvis du har "
	   "tofaktorautentisering."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "gmx",
	   "GMX: Har du tofaktorautentisering, lager du et appspesifikt "
	   "passord i sikkerhetsinnstillingene hos GMX og skriver det inn "
	   "her."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "gmx",
	   "GMX avviste påloggingen. Sjekk adressen og passordet, og slå på "
	   "POP3/IMAP-tilgang i e-postinnstillingene hos GMX (den er av som "
	   "standard). Med tofaktorautentisering bruker du et appspesifikt "
	   "passord."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "webde",
	   "WEB.DE: Har du tofaktorautentisering, lager du et appspesifikt "
	   "passord i sikkerhetsinnstillingene hos WEB.DE og skriver det inn "
	   "her."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "webde",
	   "WEB.DE avviste påloggingen. Sjekk adressen og passordet, og slå "
	   "på POP3/IMAP-tilgang i e-postinnstillingene hos WEB.DE (den er av "
	   "som standard)."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "ionos",
	   "IONOS avviste påloggingen. Bruk hele e-postadressen og "
	   "postkassepassordet som er satt i kontrollpanelet hos IONOS."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "yandex",
	   "Yandex Mail: lag et app-passord i Yandex ID > Security > App "
	   "passwords (typen Mail) og skriv det inn her."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "yandex",
	   "Yandex Mail avviste påloggingen. Tillat tilgang for "
	   "e-postprogrammer i innstillingene for Yandex Mail, og bruk et "
	   "app-passord fra Yandex ID > Security, ikke kontopassordet."),
	HP(UNAUTHORIZED, AUTH_PROTOCOL_DISABLED, "yandex",
	   "Yandex Mail avviste påloggingen eller har slått av IMAP. Tillat "
	   "tilgang for e-postprogrammer i innstillingene for Yandex Mail, og "
	   "bruk et app-passord fra Yandex ID > Security."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "qq",
	   "QQ Mail: slå på IMAP/SMTP-tjenesten i postkasseinnstillingene "
	   "(Account), lag autorisasjonskoden den tilbyr, og skriv inn koden "
	   "her som passord."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "qq",
	   "QQ Mail avviste påloggingen. Slå på IMAP/SMTP-tjenesten i "
	   "postkasseinnstillingene, og bruk autorisasjonskoden derfra, ikke "
	   "QQ-passordet."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "netease",
	   "NetEase Mail (163/126): slå på IMAP/SMTP i "
	   "postkasseinnstillingene, og bruk klientautorisasjonskoden du får "
	   "der som passord."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "netease",
	   "NetEase Mail (163/126) avviste påloggingen. Slå på IMAP/SMTP i "
	   "postkasseinnstillingene, og bruk klientautorisasjonskoden, ikke "
	   "passordet til nettsiden."),
	HP(APP_PASSWORD, AUTH_APP_PASSWORD, "proton",
	   "Proton Mail virker med e-postprogrammer bare gjennom Proton Mail "
	   "Bridge (eller et SMTP-token). Bruk brukernavnet og passordet som "
	   "Bridge viser for denne adressen."),
	HP(UNAUTHORIZED, AUTH_REJECTED, "proton",
	   "Proton Mail avviste påloggingen. E-postprogrammer trenger "
	   "brukernavnet og passordet som Proton Mail Bridge viser (eller et "
	   "SMTP-token), ikke passordet til Proton-kontoen."),
};

const struct mailconn__language mailconn__lang_nb = {
	"nb",
	messages, sizeof messages / sizeof messages[0],
	hints, sizeof hints / sizeof hints[0],
};
