// The options of dfork, one row each, in --help's order:
//
//     Name: letter, "long-name", what it takes, its --help line, [what a bad value is told];
//
// What it takes: Nothing, Value("METAVAR"), Optional("METAVAR") (a value
// only as --name=VALUE, or a free argument the mode takes: --heartbeat FILE)
// or Attached("METAVAR") (a value only as --name=VALUE). The lines and the words for bad values are names of
// src/messages.txt. Read by cli/options.rs (the Opt enum and the scanner's
// table) and by build.rs (the option lines of --help).
options! {
    Pidfile:      Some(b'p'), "pidfile",       Value("FILE"),         HELP_PIDFILE,       [];
    Chdir:        Some(b'c'), "chdir",         Value("DIR"),          HELP_CHDIR,         [];
    Umask:        Some(b'm'), "umask",         Value("MODE"),         HELP_UMASK,         [EXPECT_UMASK];
    Stdout:       Some(b'o'), "stdout",        Value("FILE"),         HELP_STDOUT,        [];
    Stderr:       Some(b'e'), "stderr",        Value("FILE"),         HELP_STDERR,        [];
    Env:          Some(b'E'), "env",           Value("NAME=VALUE"),   HELP_ENV,           [EXPECT_ENV];
    Foreground:   Some(b'f'), "foreground",    Nothing,               HELP_FOREGROUND,    [];
    Quiet:        Some(b'q'), "quiet",         Nothing,               HELP_QUIET,         [];
    User:         Some(b'u'), "user",          Value("USER[:GROUP]"), HELP_USER,          [EXPECT_USER];
    Chroot:       Some(b'r'), "chroot",        Value("DIR"),          HELP_CHROOT,        [];
    Heartbeat:    None,       "heartbeat",     Optional("FILE"),      HELP_HEARTBEAT,     [];
    Every:        None,       "every",         Value("SECONDS"),      HELP_EVERY,         [EXPECT_SECONDS];
    Format:       None,       "format",        Value("FMT"),          HELP_FORMAT,        [EXPECT_FORMAT];
    Stop:         None,       "stop",          Nothing,               HELP_STOP,          [];
    Status:       None,       "status",        Nothing,               HELP_STATUS,        [];
    Signal:       Some(b's'), "signal",        Value("SIG"),          HELP_SIGNAL,        [EXPECT_SIGNAL];
    Timeout:      Some(b't'), "timeout",       Value("SECONDS"),      HELP_TIMEOUT,       [EXPECT_SECONDS];
    Retry:        None,       "retry",         Value("SCHEDULE"),     HELP_RETRY,         [EXPECT_SCHEDULE];
    Force:        None,       "force",         Nothing,               HELP_FORCE,         [];
    ReadyFd:      None,       "ready-fd",      Value("N"),            HELP_READY_FD,      [EXPECT_FD];
    Notify:       None,       "notify",        Nothing,               HELP_NOTIFY,        [];
    Forking:      None,       "forking",       Attached("PIDFILE"),   HELP_FORKING,       [];
    Wait:         Some(b'w'), "wait",          Value("SECONDS"),      HELP_WAIT,          [EXPECT_SECONDS];
    Respawn:      None,       "respawn",       Nothing,               HELP_RESPAWN,       [];
    RespawnDelay: None,       "respawn-delay", Value("S"),            HELP_RESPAWN_DELAY, [EXPECT_DELAY];
    RespawnMax:   None,       "respawn-max",   Value("N/S"),          HELP_RESPAWN_MAX,   [EXPECT_MAX];
    Init:         None,       "init",          Nothing,               HELP_INIT,          [];
    Help:         Some(b'h'), "help",          Nothing,               HELP_HELP,          [];
    Version:      Some(b'V'), "version",       Nothing,               HELP_VERSION,       [];
}
