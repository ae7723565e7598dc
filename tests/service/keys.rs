//! The secret keys live in a key file (or the environment), never in the
//! database: a dump of it holds nothing to brute-force IP hashes with or
//! to forge links, older databases hand their keys over to the file, and a
//! server with other keys refuses a database.

use base64::Engine as _;
use colloquy::keys::Keys;
use colloquy::server::Application;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::json;
use sha2::Sha256;
use sqlx::Row;

use crate::both_backends;
use crate::helpers::{expect_problem, fresh_database, spawn, spawn_on, temp_dir, test_config, Db};
use crate::notify::{connect, held_body};

both_backends!(
    keys_live_in_a_private_file_and_a_database_dump_holds_none,
    a_server_with_other_keys_refuses_the_database,
    keys_of_an_older_version_move_from_the_database_into_the_key_file,
    a_secret_from_the_environment_needs_no_file,
);

fn hmac_hex(key: &[u8], text: &str, bytes: usize) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(text.as_bytes());
    mac.finalize().into_bytes()[..bytes]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every `(name, value)` of the `settings` table.
async fn settings(database_url: &str) -> Vec<(String, String)> {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(database_url)
        .await
        .unwrap();
    sqlx::query("SELECT name, value FROM settings ORDER BY name")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("name"), r.get("value")))
        .collect()
}

async fn keys_live_in_a_private_file_and_a_database_dump_holds_none(db: Db) {
    let Some(app) = spawn(db).await else { return };
    let c = app
        .post_ok("default", "keys", json!({"body": "from 127.0.0.1"}))
        .await;
    let mut conn = connect(&app).await;
    let ip_hash: String = sqlx::query("SELECT ip_hash FROM comments WHERE id = $1")
        .bind(c["id"].as_i64().unwrap())
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get("ip_hash");

    // Made on first start, readable by its owner only.
    let text = std::fs::read_to_string(&app.key_file).expect("the key file was made");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&app.key_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{:o}", mode & 0o777);
    }
    let file: toml::Table = toml::from_str(&text).unwrap();
    let secret = file["secret"].as_str().unwrap();
    assert!(secret.len() >= 32);

    // The dump: no key, no secret, nothing that reproduces an IP hash (a
    // brute force over IPv4 would try every value as a key), only the
    // keys' fingerprint.
    let dump = settings(&app.database_url).await;
    let keys = Keys::read_file(&app.key_file).unwrap();
    assert_eq!(
        dump,
        [("key_fingerprint".to_owned(), keys.fingerprint().to_owned())]
    );
    for (_, value) in &dump {
        assert!(!value.contains(secret));
        assert_ne!(hmac_hex(value.as_bytes(), "127.0.0.1", 16), ip_hash);
    }
}

async fn a_server_with_other_keys_refuses_the_database(db: Db) {
    let Some(a) = spawn(db).await else { return };
    let fingerprint = Keys::read_file(&a.key_file)
        .unwrap()
        .fingerprint()
        .to_owned();
    let elsewhere = temp_dir();
    let build = |key_file: std::path::PathBuf| {
        let mut config = test_config(&a.database_url, &elsewhere);
        config.key_file = Some(key_file);
        Application::build(config)
    };
    // No key file: refused, and none is made that would not fit.
    let missing = elsewhere.join("colloquy.keys");
    let e = build(missing.clone())
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("no key file") && e.contains(&fingerprint), "{e}");
    assert!(!missing.exists());
    // Another key file: refused, naming both fingerprints.
    std::fs::write(
        &missing,
        "secret = \"a-different-secret-0123456789-0123456789\"\n",
    )
    .unwrap();
    let e = build(missing.clone())
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        e.contains(&fingerprint) && e.contains("same key file"),
        "{e}"
    );
    // The first server's key file: accepted.
    let b = build(a.key_file.clone()).await;
    assert!(b.is_ok(), "{:?}", b.err());
    let _ = std::fs::remove_dir_all(&elsewhere);
}

const OLD_IP_KEY: &str = "old-ip-key-from-the-settings-table-0123";
const OLD_LINK_KEY: &str = "old-link-key-from-the-settings-table-01";

async fn keys_of_an_older_version_move_from_the_database_into_the_key_file(db: Db) {
    let dir = temp_dir();
    let Some(url) = fresh_database(db, &dir).await else {
        return;
    };
    // A database as the version before key files left it.
    let store = colloquy::store::Store::connect(&url).await.unwrap();
    store.close().await;
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    for (name, value) in [
        ("ip_hash_key", OLD_IP_KEY),
        ("notify_link_key", OLD_LINK_KEY),
    ] {
        sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2)")
            .bind(name)
            .bind(value)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let app = spawn_on(url.clone(), dir.clone(), |_| {}).await;

    // Moved: into the new file, out of the database.
    let file: toml::Table =
        toml::from_str(&std::fs::read_to_string(&app.key_file).unwrap()).unwrap();
    assert_eq!(file["legacy"]["ip_hash_key"].as_str(), Some(OLD_IP_KEY));
    assert_eq!(file["legacy"]["link_key"].as_str(), Some(OLD_LINK_KEY));
    let dump = settings(&url).await;
    let names: Vec<&str> = dump.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["key_fingerprint"]);

    // IP addresses hash as before, so stored hashes still match ...
    let c = app
        .post_ok("default", "old", json!({"body": "hello again"}))
        .await;
    let ip_hash: String = sqlx::query("SELECT ip_hash FROM comments WHERE id = $1")
        .bind(c["id"].as_i64().unwrap())
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get("ip_hash");
    assert_eq!(ip_hash, hmac_hex(OLD_IP_KEY.as_bytes(), "127.0.0.1", 16));

    // ... and a link mailed before still works, once.
    let held = app
        .post_ok("default", "old", json!({"body": held_body()}))
        .await;
    let id = held["id"].as_i64().unwrap();
    let exp = colloquy::clock::now_ms() / 1000 + 3600;
    let mut mac = Hmac::<Sha256>::new_from_slice(OLD_LINK_KEY.as_bytes()).unwrap();
    mac.update(format!("colloquy-link-v1\ndefault\n{id}\napprove\n{exp}").as_bytes());
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    let link = app.url(&format!(
        "/notify/default/comments/{id}/approve?exp={exp}&sig={sig}"
    ));
    let r = app.client.post(&link).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.client.post(&link).send().await.unwrap();
    let v = expect_problem(r, StatusCode::CONFLICT).await;
    assert_eq!(v["code"], "link_used");

    // A second start with the file finds everything in place.
    let key_file = app.key_file.clone();
    let again = spawn_on(url.clone(), temp_dir(), |c| c.key_file = Some(key_file)).await;
    again
        .post_ok("default", "old", json!({"body": "still here"}))
        .await;
    assert_eq!(settings(&url).await.len(), 1);
}

async fn a_secret_from_the_environment_needs_no_file(db: Db) {
    let dir = temp_dir();
    let Some(url) = fresh_database(db, &dir).await else {
        return;
    };
    let secret = "a-secret-passed-in-the-environment-0123456789";
    let app = spawn_on(url.clone(), dir.clone(), |c| {
        c.secret_key = Some(secret.to_owned());
    })
    .await;
    app.post_ok("default", "env", json!({"body": "hi"})).await;
    assert!(!app.key_file.exists(), "no file is written");
    assert_eq!(
        settings(&url).await,
        [(
            "key_fingerprint".to_owned(),
            Keys::from_secret(secret).unwrap().fingerprint().to_owned()
        )]
    );
    // Keys of an older version cannot move into the environment: the
    // start is refused with what to do.
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query("INSERT INTO settings (name, value) VALUES ('ip_hash_key', 'old')")
        .execute(&mut conn)
        .await
        .unwrap();
    let mut config = test_config(&url, &dir);
    config.secret_key = Some(secret.to_owned());
    let e = Application::build(config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        e.contains("COLLOQUY_SECRET_KEY") && e.contains("key file"),
        "{e}"
    );
}
