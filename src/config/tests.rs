//! Loading the configuration: defaults, precedence, and errors that name
//! their place.

use super::*;

fn load_text(text: &str) -> Result<Config, ConfigError> {
    let dir = std::env::temp_dir().join(format!(
        "colloquy-config-{}-{}",
        std::process::id(),
        text.len()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("colloquy.toml");
    std::fs::write(&path, text).expect("write");
    let o = Overrides {
        config: Some(path),
        ..Overrides::default()
    };
    Config::load(&o, |_| None).map(|(c, _)| c)
}

#[test]
fn defaults_need_no_file() {
    let (c, _) = Config::load(&Overrides::default(), |_| None).expect("defaults");
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.database_url, "sqlite:colloquy.db");
    assert_eq!(c.sites[0].formats, ["filtered_html", "plain_text"]);
}

#[test]
fn flags_beat_environment_beats_file() {
    let o = Overrides {
        listen: Some("127.0.0.1:9000".into()),
        ..Overrides::default()
    };
    let env = |k: &str| match k {
        "COLLOQUY_LISTEN" => Some("127.0.0.1:7000".to_owned()),
        "COLLOQUY_ADMIN_TOKEN" => Some("0123456789abcdef0".to_owned()),
        _ => None,
    };
    let (c, _) = Config::load(&o, env).expect("valid");
    assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
    assert_eq!(c.admin_tokens.len(), 1);
}

#[test]
fn unknown_keys_and_bad_values_name_file_line_and_key() {
    let e = load_text("listen = \"127.0.0.1:1\"\nlisten_port = 3\n").expect_err("unknown key");
    assert!(e.origin.ends_with("colloquy.toml:2:1"), "{e}");
    assert_eq!(e.key, "listen_port");
    let e = load_text(
        "[[site]]\nid = \"a\"\nformats = [\"plain_text\"]\ndefault_format = \"markdown\"\n",
    )
    .expect_err("bad default");
    assert!(e.origin.ends_with(":4:18"), "{e}");
    assert_eq!(e.key, "site.default_format");
    let e = load_text("[limits]\nmax_body_bytes = 5\n").expect_err("too small");
    assert_eq!(e.key, "limits.max_body_bytes");
}

#[test]
fn trusted_proxies_and_the_ipv6_prefix_load_and_bad_ones_are_named() {
    let c = load_text("trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\nipv6_prefix = 56\n")
        .expect("valid");
    assert!(c.trusted_proxies.contains("10.2.3.4".parse().expect("ip")));
    assert_eq!(c.ipv6_prefix, 56);
    let e = load_text("trusted_proxies = [\"10.0.0.0/8\", \"lb.internal\"]\n")
        .expect_err("a host name");
    assert_eq!(e.key, "trusted_proxies");
    assert!(e.message.contains("lb.internal"), "{e}");
    let e = load_text("ipv6_prefix = 129\n").expect_err("too long");
    assert_eq!(e.key, "ipv6_prefix");
    // The older switch means a proxy on this host.
    let c = load_text("trust_proxy = true\n").expect("valid");
    assert!(c.trusted_proxies.contains("127.0.0.1".parse().expect("ip")));
    assert!(!c.trusted_proxies.contains("10.0.0.1".parse().expect("ip")));
    let env = |k: &str| {
        (k == "COLLOQUY_TRUSTED_PROXIES").then(|| "192.0.2.0/24, 2001:db8::/32".to_owned())
    };
    let (c, _) = Config::load(&Overrides::default(), env).expect("valid");
    assert!(c
        .trusted_proxies
        .contains("2001:db8::5".parse().expect("ip")));
}

#[test]
fn database_pool_and_timeouts_load_and_bad_ones_are_named() {
    let c =
        load_text("[database]\npool_size = 40\nlock_timeout_ms = 250\nacquire_timeout_secs = 3\n")
            .expect("valid");
    assert_eq!(c.database.pool_size, 40);
    assert_eq!(c.database.lock_timeout_ms, 250);
    assert_eq!(
        c.database.acquire_timeout,
        std::time::Duration::from_secs(3)
    );
    assert_eq!(c.database.statement_timeout_ms, 5_000, "a default kept");
    let e = load_text("[database]\npool_size = 0\n").expect_err("no connections");
    assert_eq!(e.key, "database.pool_size");
    assert!(e.origin.ends_with(":2:13"), "{e}");
    let e = load_text("[database]\npool = 3\n").expect_err("unknown key");
    assert_eq!(e.key, "pool");
}

#[test]
fn short_admin_tokens_are_refused_per_site_as_globally() {
    let e = load_text("[[site]]\nid = \"a\"\nadmin_tokens = [\"0123456789abcdef\", \"hunter2\"]\n")
        .expect_err("short site token");
    assert_eq!(e.key, "site.admin_tokens");
    assert!(e.origin.ends_with(":3:37"), "{e}");
    let e = load_text("admin_tokens = [\"short\"]\n").expect_err("short global token");
    assert_eq!(e.key, "admin_tokens");
    let c = load_text("[[site]]\nid = \"a\"\nadmin_tokens = [\"0123456789abcdef\"]\n")
        .expect("16 characters are enough");
    assert_eq!(c.sites[0].admin_tokens.len(), 1);
}

#[test]
fn notification_settings_load_and_bad_ones_are_named() {
    let c = load_text(
        "public_url = \"https://c.example/\"\n[smtp]\nhost = \"mail.example\"\nfrom = \"c@example.com\"\n\
         [notifications]\nmax_attempts = 3\n[[site]]\nid = \"a\"\n\
         webhook_url = \"https://hooks.example/colloquy\"\nwebhook_secret = \"0123456789abcdef\"\n\
         moderator_emails = [\"mod@example.com\"]\n",
    )
    .expect("valid");
    assert_eq!(c.public_url.as_deref(), Some("https://c.example"));
    let smtp = c.smtp.expect("smtp");
    assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::Starttls));
    assert_eq!(c.notify.max_attempts, 3);
    assert_eq!(
        c.sites[0].webhook_url.as_deref(),
        Some("https://hooks.example/colloquy")
    );
    assert_eq!(c.sites[0].moderator_emails, ["mod@example.com"]);

    let e = load_text("[[site]]\nid = \"a\"\nwebhook_url = \"ftp://x.example/\"\nwebhook_secret = \"0123456789abcdef\"\n")
        .expect_err("bad scheme");
    assert_eq!(e.key, "site.webhook_url");
    assert!(e.origin.ends_with(":3:15"), "{e}");
    let e =
        load_text("[[site]]\nid = \"a\"\nwebhook_url = \"not a url\"\n").expect_err("not a url");
    assert_eq!(e.key, "site.webhook_url");
    let e = load_text("[[site]]\nid = \"a\"\nwebhook_url = \"https://x.example/\"\n")
        .expect_err("no secret");
    assert_eq!(e.key, "site.webhook_secret");
    let e = load_text("[[site]]\nid = \"a\"\nmoderator_emails = [\"Mod <m@x.example>\"]\n")
        .expect_err("bad address");
    assert_eq!(e.key, "site.moderator_emails");
    let e = load_text("[smtp]\nhost = \"m.example\"\nfrom = \"c@example.com\"\ntls = \"ssl\"\n")
        .expect_err("bad tls");
    assert_eq!(e.key, "smtp.tls");
    let e = load_text("[smtp]\nhost = \"m.example\"\n").expect_err("no from");
    assert_eq!(e.key, "from");
}

#[test]
fn site_moderation_rules_load_and_errors_point_at_their_key() {
    let c = load_text(
        "ip_retention_days = 7\n[[site]]\nid = \"a\"\nmoderation_keys = [\"viagra\", \"/c[a4]sino/\"]\n\
         trust_approved_authors = true\nclose_after_days = 14\nmin_submit_secs = 0\nreport_threshold = 5\n",
    )
    .expect("valid");
    let rules = &c.sites[0].rules;
    assert_eq!(rules.report_threshold, 5);
    let e = load_text("[[site]]\nid = \"a\"\nreport_threshold = 1001\n").expect_err("too many");
    assert_eq!(e.key, "site.report_threshold");
    assert_eq!(rules.moderation_keys.keys(), ["viagra", "/c[a4]sino/"]);
    assert!(rules.trust_approved_authors);
    assert_eq!(rules.close_after_days, 14);
    assert_eq!(rules.min_submit_secs, 0);
    assert_eq!(c.ip_retention_days, 7);
    let e = load_text("[[site]]\nid = \"a\"\ndisallowed_keys = [\"/(oops/\"]\n")
        .expect_err("broken expression");
    assert!(e.origin.ends_with(":3:19"), "{e}");
    assert_eq!(e.key, "site.disallowed_keys");
    assert!(e.message.contains("`/(oops/`"), "{e}");
    let e = load_text("[[site]]\nid = \"a\"\nmax_depth = 5000\n").expect_err("too deep");
    assert!(e.origin.ends_with(":3:13"), "{e}");
    assert_eq!(e.key, "site.max_depth");
    let e = load_text("[[site]]\nid = \"a\"\nmax_chars = -1\n").expect_err("negative");
    assert_eq!(e.key, "site.max_chars");
}

#[test]
fn rate_limits_can_be_switched_off_from_the_environment() {
    let o = Overrides::default();
    let (c, _) = Config::load(&o, |_| None).expect("defaults");
    assert!(c.rate_limit);
    let (c, _) = Config::load(&o, |k| {
        (k == "COLLOQUY_RATE_LIMIT").then(|| "off".to_owned())
    })
    .expect("off");
    assert!(!c.rate_limit);
    let e = Config::load(&o, |k| {
        (k == "COLLOQUY_RATE_LIMIT").then(|| "maybe".to_owned())
    })
    .expect_err("bad value");
    assert_eq!(e.origin, "COLLOQUY_RATE_LIMIT");
}

#[test]
fn the_key_file_sits_beside_a_sqlite_database_unless_set() {
    let at = |url: &str| {
        Config {
            database_url: url.to_owned(),
            ..Config::default()
        }
        .key_file_path()
    };
    assert_eq!(at("sqlite:colloquy.db"), PathBuf::from("colloquy.keys"));
    assert_eq!(
        at("sqlite:/var/lib/colloquy/comments.db?mode=rwc"),
        PathBuf::from("/var/lib/colloquy/comments.keys")
    );
    assert_eq!(at("sqlite://data/c.db"), PathBuf::from("data/c.keys"));
    assert_eq!(at("sqlite::memory:"), PathBuf::from("colloquy.keys"));
    assert_eq!(
        at("postgres://db.example/colloquy"),
        PathBuf::from("colloquy.keys")
    );
    let set = Config {
        key_file: Some(PathBuf::from("/run/secrets/colloquy.keys")),
        ..Config::default()
    };
    assert_eq!(
        set.key_file_path(),
        PathBuf::from("/run/secrets/colloquy.keys")
    );
}

#[test]
fn keys_and_retention_come_from_file_and_environment() {
    let c = load_text("key_file = \"/etc/colloquy/keys\"\n[notifications]\nretention_days = 3\n")
        .expect("valid");
    assert_eq!(c.key_file, Some(PathBuf::from("/etc/colloquy/keys")));
    assert_eq!(c.notify.retention_days, 3);
    let e = load_text("[notifications]\nretention_days = -1\n").expect_err("negative");
    assert_eq!(e.key, "notifications.retention_days");
    let (c, _) = Config::load(&Overrides::default(), |_| None).expect("defaults");
    assert_eq!(
        (c.notify.retention_days, c.key_file, c.secret_key),
        (7, None, None)
    );

    let env = |k: &str| match k {
        "COLLOQUY_KEY_FILE" => Some("/run/keys".to_owned()),
        "COLLOQUY_SECRET_KEY" => Some("s3cr3t-0123456789-0123456789-0123456789".to_owned()),
        "COLLOQUY_NOTIFY_RETENTION_DAYS" => Some("0".to_owned()),
        _ => None,
    };
    let (c, _) = Config::load(&Overrides::default(), env).expect("valid");
    assert_eq!(c.key_file, Some(PathBuf::from("/run/keys")));
    assert_eq!(
        c.secret_key.as_deref(),
        Some("s3cr3t-0123456789-0123456789-0123456789")
    );
    assert_eq!(c.notify.retention_days, 0);
    assert!(
        !format!("{c:?}").contains("s3cr3t"),
        "the secret stays out of logs"
    );
    let e = Config::load(&Overrides::default(), |k| {
        (k == "COLLOQUY_SECRET_KEY").then(|| "short".to_owned())
    })
    .expect_err("too short");
    assert_eq!(
        (e.origin.as_str(), e.key.as_str()),
        ("COLLOQUY_SECRET_KEY", "secret_key")
    );
}

#[test]
fn serving_limits_load_from_the_file_and_the_environment() {
    let c = load_text(
        "[limits]\nmax_connections = 500\nmax_connections_per_ip = 0\n\
         first_byte_timeout_secs = 3\nkeep_alive_timeout_secs = 7\nrender_threads = 2\n\
         render_queue_ms = 250\nip_previews_per_minute = 5\nlisting_cache_bytes = 1048576\n",
    )
    .expect("valid");
    let l = &c.limits;
    assert_eq!((l.max_connections, l.max_connections_per_ip), (500, 0));
    assert_eq!(
        (l.first_byte_timeout_secs, l.keep_alive_timeout_secs),
        (3, 7)
    );
    assert_eq!((l.render_threads, l.render_queue_ms), (2, 250));
    assert_eq!(l.ip_previews_per_minute, 5);
    assert_eq!(l.listing_cache_bytes, 1 << 20);
    assert_eq!(l.memo_cache_bytes, Limits::default().memo_cache_bytes);
    let e = load_text("[limits]\nmax_connections = 0\n").expect_err("zero");
    assert_eq!(e.key, "limits.max_connections");
    assert!(e.origin.ends_with(":2:19"), "{e}");
    let o = Overrides::default();
    let (c, _) = Config::load(&o, |k| {
        (k == "COLLOQUY_MAX_CONNECTIONS_PER_IP").then(|| "16".to_owned())
    })
    .expect("valid");
    assert_eq!(c.limits.max_connections_per_ip, 16);
    let e = Config::load(&o, |k| {
        (k == "COLLOQUY_FIRST_BYTE_TIMEOUT_SECS").then(|| "0".to_owned())
    })
    .expect_err("zero");
    assert_eq!(e.origin, "COLLOQUY_FIRST_BYTE_TIMEOUT_SECS");
    assert_eq!(e.key, "limits.first_byte_timeout_secs");
}

#[test]
fn debug_output_hides_secrets() {
    let c = Config {
        database_url: "postgres://u:hunter2@db/x".into(),
        admin_tokens: vec!["supersecrettoken1".into()],
        smtp: Some(SmtpConfig {
            host: "m.example".into(),
            port: 587,
            from: "c@example.com".into(),
            username: Some("u".into()),
            password: Some("smtp-hunter3".into()),
            tls: SmtpTls::Starttls,
        }),
        ..Config::default()
    };
    let shown = format!("{c:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("supersecret") && !shown.contains("hunter3"),
        "{shown}"
    );
}

#[test]
fn site_origins_need_a_scheme_and_are_normalized() {
    let e =
        load_text("[[site]]\nid = \"a\"\norigins = [\"https://ok.example\", \"news.example\"]\n")
            .expect_err("no scheme");
    assert!(e.origin.ends_with("colloquy.toml:3:34"), "{e}");
    assert_eq!(e.key, "site.origins");
    assert!(e.to_string().contains("https://news.example"), "{e}");
    let c = load_text("[[site]]\nid = \"a\"\norigins = [\"HTTPS://News.Example/\", \"*\"]\n")
        .expect("valid");
    assert_eq!(c.sites[0].origins, ["https://news.example", "*"]);
}

#[test]
fn delivery_concurrency_comes_from_file_and_environment() {
    let (c, _) = Config::load(&Overrides::default(), |_| None).expect("defaults");
    assert_eq!(c.notify.concurrency, 16);
    let c = load_text("[notifications]\nconcurrency = 64\n").expect("valid");
    assert_eq!(c.notify.concurrency, 64);
    let e = load_text("[notifications]\nconcurrency = 0\n").expect_err("zero");
    assert_eq!(e.key, "notifications.concurrency");
    let (c, _) = Config::load(&Overrides::default(), |k| {
        (k == "COLLOQUY_NOTIFY_CONCURRENCY").then(|| "32".to_owned())
    })
    .expect("valid");
    assert_eq!(c.notify.concurrency, 32);
    let e = Config::load(&Overrides::default(), |k| {
        (k == "COLLOQUY_NOTIFY_CONCURRENCY").then(|| "lots".to_owned())
    })
    .expect_err("not a number");
    assert_eq!(e.origin, "COLLOQUY_NOTIFY_CONCURRENCY");
}

#[test]
fn sign_in_keys_load_and_bad_ones_are_named() {
    let c = load_text(
        "[[site]]\nid = \"a\"\nanonymous = \"held\"\nsso_jwks_file = \"/etc/jwks.json\"\n\
         [[site.sso_keys]]\nkid = \"k1\"\nsecret = \"0123456789abcdef0123456789abcdef\"\n\
         [[site.sso_keys]]\npublic_key_file = \"/etc/key.pem\"\n",
    )
    .expect("loads");
    let site = &c.sites[0];
    assert_eq!(site.rules.anonymous, crate::moderation::Anonymous::Held);
    assert_eq!(site.sso_keys.len(), 2);
    assert_eq!(site.sso_keys[0].kid.as_deref(), Some("k1"));
    assert!(!format!("{c:?}").contains("0123456789abcdef0123"));
    for (text, key) in [
        ("secret = \"too-short\"\n", "site.sso_keys.secret"),
        (
            "secret = \"0123456789abcdef0123456789abcdef\"\npublic_key = \"x\"\n",
            "site.sso_keys",
        ),
        ("kid = \"only\"\n", "site.sso_keys"),
    ] {
        let e =
            load_text(&format!("[[site]]\nid = \"a\"\n[[site.sso_keys]]\n{text}")).expect_err(text);
        assert_eq!(e.key, key, "{text}");
    }
    let e = load_text("[[site]]\nid = \"a\"\nanonymous = \"sometimes\"\n").expect_err("bad");
    assert_eq!(e.key, "site.anonymous");
}

#[test]
fn config_mismatch_is_refuse_by_default_and_warn_when_asked() {
    assert_eq!(
        load_text("").expect("valid").config_mismatch,
        MismatchPolicy::Refuse
    );
    let c = load_text("config_mismatch = \"warn\"\n").expect("valid");
    assert_eq!(c.config_mismatch, MismatchPolicy::Warn);
    let e = load_text("config_mismatch = \"ignore\"\n").expect_err("not a choice");
    assert_eq!(e.key, "config_mismatch");
    assert!(e.origin.contains(":1"), "{e}");
    let env = |k: &str| (k == "COLLOQUY_CONFIG_MISMATCH").then(|| "warn".to_owned());
    let (c, _) = Config::load(&Overrides::default(), env).expect("valid");
    assert_eq!(c.config_mismatch, MismatchPolicy::Warn);
    let env = |k: &str| (k == "COLLOQUY_CONFIG_MISMATCH").then(|| "loud".to_owned());
    let e = Config::load(&Overrides::default(), env).expect_err("not a choice");
    assert_eq!(e.origin, "COLLOQUY_CONFIG_MISMATCH");
}

#[test]
fn a_read_replica_needs_postgresql_and_a_postgres_url() {
    let c = load_text(
        "database_url = \"postgres://db.internal/news\"\nread_database_url = \"postgres://replica.internal/news\"\n[database]\nread_your_writes_secs = 30\n",
    )
    .expect("valid");
    assert_eq!(
        c.database.read_url.as_deref(),
        Some("postgres://replica.internal/news")
    );
    assert_eq!(c.database.read_your_writes_secs, 30);
    let e = load_text("read_database_url = \"postgres://replica.internal/news\"\n")
        .expect_err("the default database is SQLite");
    assert_eq!(e.key, "read_database_url");
    assert!(e.message.contains("needs PostgreSQL"), "{e}");
    let e = load_text("read_database_url = \"mysql://x\"\n").expect_err("not postgres");
    assert_eq!(e.key, "read_database_url");
}
