//! The `colloquy` command line, run as a user runs it (the built binary,
//! real stdin and stdout).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn colloquy(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_colloquy"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the colloquy binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("finishes")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn render_filtered_html_reads_stdin_and_prints_html() {
    let o = colloquy(
        &["render", "--format", "filtered_html"],
        b"Hello <b>world</b>\n\nsee www.example.com",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "<p>Hello world</p>\n<p>see <a href=\"http://www.example.com\" rel=\"nofollow ugc\">www.example.com</a></p>\n"
    );
}

#[test]
fn render_plain_text_escapes_everything() {
    let o = colloquy(&["render", "--format", "plain_text"], b"<em>x</em>");
    assert!(o.status.success());
    assert_eq!(stdout(&o), "<p>&lt;em&gt;x&lt;/em&gt;</p>\n");
}

#[test]
fn render_markdown() {
    let o = colloquy(
        &["render", "--format", "markdown"],
        b"*hi* <script>x</script>",
    );
    assert!(o.status.success());
    assert_eq!(stdout(&o), "<p><em>hi</em> </p>\n");
}

#[test]
fn render_jsonl_renders_each_line_in_order() {
    let input = b"\"<em>a</em>\"\n\"line1\\nline2\"\n\"\"\n";
    let o = colloquy(&["render", "--format", "filtered_html", "--jsonl"], input);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<String> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON string"))
        .collect();
    assert_eq!(
        lines,
        ["<p><em>a</em></p>\n", "<p>line1<br />\nline2</p>\n", ""]
    );
}

#[test]
fn render_jsonl_names_the_line_of_a_bad_record() {
    let o = colloquy(
        &["render", "--format", "plain_text", "--jsonl"],
        b"\"ok\"\n{\"not\": \"a string\"}\n",
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("stdin:2:"), "{}", stderr(&o));
}

#[test]
fn invalid_utf8_is_an_error_not_a_panic() {
    let o = colloquy(&["render", "--format", "plain_text"], b"ok\n\xff\xfe");
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("invalid UTF-8") && err.contains("stdin:2"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn an_unknown_format_lists_the_known_ones() {
    let o = colloquy(&["render", "--format", "bbcode"], b"x");
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("bbcode") && err.contains("filtered_html") && err.contains("plain_text"),
        "{err}"
    );
}

#[test]
fn formats_lists_the_tips() {
    let o = colloquy(&["formats"], b"");
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.contains("filtered_html  Filtered HTML"));
    assert!(out.contains("  - Allowed HTML tags: <em> <strong> <blockquote> <br> <p>"));
    assert!(out.contains("  - No HTML tags allowed."));
    let long = stdout(&colloquy(&["formats", "--long"], b""));
    assert!(long.len() > out.len());
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&colloquy(&["formats", "--json"], b""))).expect("json");
    assert_eq!(json.as_array().map(Vec::len), Some(3));
}

#[test]
fn policy_check_accepts_the_bundled_directory() {
    let o = colloquy(&["policy", "check", "policies"], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().filter(|l| l.starts_with("ok ")).count(),
        3
    );
}

#[test]
fn policy_check_reports_every_broken_file_with_its_line() {
    let dir = std::env::temp_dir().join(format!("colloquy-cli-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.toml"),
        "id = \"a\"\nname = \"A\"\n[[filter]]\nkind = \"html\"\nallowed_tags = [\"script\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("b.toml"),
        "id = \"b\"\nname = \"B\"\nfilters = 3\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("c.toml"),
        "id = \"c\"\nname = \"C\"\n[[filter]]\nkind = \"autop\"\n",
    )
    .unwrap();
    let o = colloquy(&["policy", "check", dir.to_str().unwrap()], b"");
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("a.toml:5:") && err.contains("script"), "{err}");
    assert!(
        err.contains("b.toml:3:") && err.contains("filters"),
        "{err}"
    );
    assert!(err.contains("2 of 3 policy files are invalid"), "{err}");
    assert!(stdout(&o).contains("c.toml"));
}

#[test]
fn render_uses_a_custom_policy_directory() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("colloquy-cli-custom-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("shout.toml"),
        "id = \"shout\"\nname = \"Shout\"\n[[filter]]\nkind = \"html\"\nallowed_tags = [\"strong\"]\ndisallowed = \"escape\"\n",
    )
    .unwrap();
    let o = colloquy(
        &[
            "render",
            "--format",
            "shout",
            "--policies",
            dir.to_str().unwrap(),
        ],
        b"<strong>a</strong><i>b</i>",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "<strong>a</strong>&lt;i&gt;b&lt;/i&gt;");
}

/// Runs every `console` example in the README whose output is given in full
/// (blocks with `…` are abridged and skipped), in a directory whose
/// `policies/` holds the bundled files plus the README's own example policy.
#[test]
fn readme_console_examples_print_what_the_readme_says() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let work = std::env::temp_dir().join(format!("colloquy-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("policies")).unwrap();
    for entry in std::fs::read_dir(root.join("policies")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, work.join("policies").join(path.file_name().unwrap())).unwrap();
    }
    let example_policy = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.starts_with("# policies/basic_html.toml"))
        .expect("README has the basic_html example policy");
    std::fs::write(work.join("policies/basic_html.toml"), example_policy).unwrap();

    let bin_dir = PathBuf::from(env!("CARGO_BIN_EXE_colloquy"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for block in readme.split("```console\n").skip(1) {
        let block = block.split("```").next().unwrap();
        if block.contains('…') {
            continue;
        }
        let mut lines = block.lines().peekable();
        let mut command = String::new();
        for line in lines.by_ref() {
            let line = line.strip_prefix("$ ").unwrap_or(line);
            match line.strip_suffix('\\') {
                Some(continued) => command.push_str(continued),
                None => {
                    command.push_str(line);
                    break;
                }
            }
        }
        let expected: String = lines.map(|l| format!("{l}\n")).collect();
        let out = Command::new("sh")
            .arg("-c")
            .arg(&command)
            .current_dir(&work)
            .env("PATH", &path)
            .output()
            .unwrap();
        let got = String::from_utf8_lossy(&out.stdout);
        let got = if got.ends_with('\n') {
            got.into_owned()
        } else {
            format!("{got}\n")
        };
        assert_eq!(
            got,
            expected,
            "README example: {command}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 5, "only {ran} README examples ran");
}

/// A free loopback port (bound and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let mut req = client.request(method.parse().unwrap(), url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_owned());
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

fn wait_healthy(base: &str) {
    for _ in 0..100 {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let ok = rt.block_on(async {
            reqwest::get(format!("{base}/healthz"))
                .await
                .is_ok_and(|r| r.status().is_success())
        });
        if ok {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("server at {base} did not become healthy");
}

#[test]
fn serve_takes_listen_database_and_the_admin_token_from_the_environment() {
    let dir = std::env::temp_dir().join(format!("colloquy-cli-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let db = dir.join("c.db");
    let child = Command::new(env!("CARGO_BIN_EXE_colloquy"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database",
            &format!("sqlite:{}", db.display()),
        ])
        .env("COLLOQUY_ADMIN_TOKEN", "cli-admin-token-0123456789")
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&base);
    assert!(db.exists(), "the SQLite file is created");
    let (status, body) = http(
        "POST",
        &format!("{base}/api/v1/sites/default/threads/cli/comments"),
        &[],
        Some(r#"{"body": "http://a.example http://b.example"}"#),
    );
    assert_eq!(status, 201, "{body}");
    let (status, queue) = http(
        "GET",
        &format!("{base}/api/v1/admin/sites/default/comments"),
        &[("authorization", "Bearer cli-admin-token-0123456789")],
        None,
    );
    assert_eq!(status, 200, "{queue}");
    assert!(queue.contains("http://a.example"));
    let (status, _) = http(
        "GET",
        &format!("{base}/api/v1/admin/sites/default/comments"),
        &[("authorization", "Bearer nope-nope-nope-nope")],
        None,
    );
    assert_eq!(status, 401);
}

#[test]
fn an_invalid_configuration_stops_the_start_naming_file_line_and_key() {
    let dir = std::env::temp_dir().join(format!("colloquy-cli-badconf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("colloquy.toml"), "listen = \"127.0.0.1:1\"\n\n[[site]]\nid = \"x\"\nformats = [\"plain_text\"]\nmoderation = \"sometimes\"\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_colloquy"))
        .arg("serve")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("colloquy.toml:6:") && err.contains("site.moderation"),
        "{err}"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_colloquy"))
        .args(["serve", "--listen", "not-an-address"])
        .current_dir(&dir)
        .env("COLLOQUY_CONFIG", "/nonexistent/colloquy.toml")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/colloquy.toml"));
}

#[test]
fn rerender_reports_what_it_did() {
    let dir = std::env::temp_dir().join(format!("colloquy-cli-rerender-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite:{}", dir.join("c.db").display());
    let o = Command::new(env!("CARGO_BIN_EXE_colloquy"))
        .args(["rerender", "--site", "default", "--database", &db])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "default: 0 comments checked, 0 re-rendered, 0 skipped (format no longer exists)"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_colloquy"))
        .args(["rerender", "--site", "nosuch", "--database", &db])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("nosuch"));
}

#[test]
fn export_refuses_a_missing_database_and_creates_nothing() {
    let dir = std::env::temp_dir().join(format!("colloquy-cli-nodb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // The default database, in a directory that has none.
    let o = Command::new(env!("CARGO_BIN_EXE_colloquy"))
        .args(["export", "--site", "default"])
        .current_dir(&dir)
        .env_remove("COLLOQUY_DATABASE_URL")
        .env_remove("COLLOQUY_DATABASE")
        .env_remove("COLLOQUY_CONFIG")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no database at colloquy.db"), "{err}");
    assert!(o.stdout.is_empty(), "no empty backup on stdout");
    // One named on the command line, with an output file.
    let missing = dir.join("elsewhere.db");
    let o = Command::new(env!("CARGO_BIN_EXE_colloquy"))
        .args([
            "export",
            "--site",
            "default",
            "--output",
            "backup.jsonl",
            "--database",
        ])
        .arg(format!("sqlite:{}", missing.display()))
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&missing.display().to_string()), "{err}");
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "nothing created: {left:?}");
    // A database that exists exports as before.
    let db = format!("sqlite:{}", dir.join("real.db").display());
    let o = Command::new(env!("CARGO_BIN_EXE_colloquy"))
        .args(["rerender", "--site", "default", "--database", &db])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new(env!("CARGO_BIN_EXE_colloquy"))
        .args(["export", "--site", "default", "--database", &db])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("exported 0 threads"));
}

#[test]
fn each_subcommand_shows_only_its_own_flags() {
    let help = |cmd: &str| {
        let o = colloquy(&[cmd, "--help"], b"");
        assert!(o.status.success(), "{cmd} --help");
        stdout(&o)
    };
    assert!(help("serve").contains("--listen"));
    for cmd in ["import", "export", "rerender"] {
        let text = help(cmd);
        assert!(
            !text.contains("--listen"),
            "{cmd} --help lists --listen:\n{text}"
        );
        assert!(
            text.contains("--database") && text.contains("--config"),
            "{cmd}"
        );
    }
    let o = colloquy(&["export", "--site", "x", "--listen", "127.0.0.1:1"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--listen"), "{}", stderr(&o));
}

#[test]
fn policy_check_lists_every_error_of_a_file_and_suggests_the_key() {
    let dir = std::env::temp_dir().join(format!("colloquy-cli-allerrors-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("many.toml"),
        "id = \"Many\"\nnmae = \"Many\"\n\n[[filter]]\nkind = \"html\"\nalowed_tags = [\"em\"]\n\n[[filter]]\nkind = \"url\"\nmax_display_lenght = 20\n\n[[filter]]\nkind = \"nosuch\"\n",
    )
    .unwrap();
    let o = colloquy(&["policy", "check", dir.to_str().unwrap()], b"");
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    for (line, text) in [
        (2, "did you mean `name`?"),
        (6, "did you mean `allowed_tags`?"),
        (10, "did you mean `max_display_length`?"),
    ] {
        assert!(
            err.lines()
                .any(|l| l.contains(&format!("many.toml:{line}:")) && l.contains(text)),
            "line {line}: {text}\n{err}"
        );
    }
    // Once the keys are right, the other problems of the same file are all
    // listed too.
    std::fs::write(
        dir.join("many.toml"),
        "id = \"Many\"\nname = \"Many\"\n\n[[filter]]\nkind = \"html\"\nallowed_tags = [\"script\"]\n\n[[filter]]\nkind = \"nosuch\"\n",
    )
    .unwrap();
    let o = colloquy(&["policy", "check", dir.to_str().unwrap()], b"");
    let err = stderr(&o);
    for line in [1, 6, 9] {
        assert!(
            err.contains(&format!("many.toml:{line}:")),
            "line {line}\n{err}"
        );
    }
    assert!(err.contains("1 of 1 policy files are invalid"), "{err}");
    // A syntax error is reported as such, with its line.
    std::fs::write(dir.join("many.toml"), "id = \"x\"\nname = \n").unwrap();
    let o = colloquy(&["policy", "check", dir.to_str().unwrap()], b"");
    assert!(stderr(&o).contains("many.toml:2:"), "{}", stderr(&o));
}

#[test]
fn cross_origin_refusals_are_logged_with_the_origin() {
    let dir = std::env::temp_dir().join(format!("colloquy-cli-originlog-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    std::fs::write(
        dir.join("colloquy.toml"),
        format!("listen = \"127.0.0.1:{port}\"\n\n[[site]]\nid = \"default\"\norigins = [\"https://news.example\"]\n"),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("log.txt")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_colloquy"))
        .arg("serve")
        .env("COLLOQUY_LOG", "warn")
        .env_remove("COLLOQUY_CONFIG")
        .env_remove("COLLOQUY_DATABASE_URL")
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&base);
    let (status, _) = http(
        "OPTIONS",
        &format!("{base}/api/v1/sites/default/threads/a/comments"),
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "POST"),
        ],
        None,
    );
    assert_eq!(status, 403);
    let (status, _) = http(
        "GET",
        &format!("{base}/api/v1/sites/default/formats"),
        &[("origin", "http://news.example")],
        None,
    );
    assert_eq!(status, 200, "answered, without CORS headers");
    let (status, _) = http(
        "GET",
        &format!("{base}/api/v1/sites/default/formats"),
        &[("origin", "https://news.example")],
        None,
    );
    assert_eq!(status, 200);
    drop(server);
    let text = std::fs::read_to_string(dir.join("log.txt")).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("preflight refused") && l.contains("https://evil.example")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("read refused") && l.contains("http://news.example")),
        "{text}"
    );
    assert!(
        !text.contains("origin=https://news.example"),
        "an allowed origin is not logged:\n{text}"
    );
}

#[test]
fn accounts_add_reads_the_password_from_stdin_and_the_account_logs_in() {
    let dir = std::env::temp_dir().join(format!("colloquy-cli-accounts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let database = format!("sqlite:{}", dir.join("c.db").display());
    let run = |args: &[&str], stdin: &[u8]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_colloquy"))
            .args(args)
            .current_dir(&dir)
            .env_remove("COLLOQUY_ACCOUNT_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    };
    let o = run(
        &[
            "accounts",
            "add",
            "--site",
            "default",
            "--name",
            "mia",
            "--role",
            "moderator",
            "--database",
            &database,
        ],
        b"a-password-from-stdin\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("account `mia` created"),
        "{}",
        stdout(&o)
    );
    let o = run(
        &[
            "accounts",
            "add",
            "--site",
            "default",
            "--name",
            "short",
            "--database",
            &database,
        ],
        b"short\n",
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("password"), "{}", stderr(&o));
    let o = run(
        &[
            "accounts",
            "list",
            "--site",
            "default",
            "--database",
            &database,
        ],
        b"",
    );
    assert_eq!(stdout(&o), "mia\tmoderator\n");

    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_colloquy"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database",
            &database,
        ])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&base);
    let login = format!("{base}/api/v1/admin/sites/default/login");
    let (status, body) = http(
        "POST",
        &login,
        &[],
        Some(r#"{"name": "mia", "password": "a-password-from-stdin"}"#),
    );
    assert_eq!(status, 201, "{body}");
    let session: serde_json::Value = serde_json::from_str(&body).unwrap();
    let bearer = format!("Bearer {}", session["token"].as_str().unwrap());
    let (status, _) = http(
        "GET",
        &format!("{base}/api/v1/admin/sites/default/comments"),
        &[("authorization", &bearer)],
        None,
    );
    assert_eq!(status, 200);
    let (status, _) = http(
        "POST",
        &login,
        &[],
        Some(r#"{"name": "mia", "password": "a-password-from-stdin\n"}"#),
    );
    assert_eq!(status, 401);
    let _ = std::fs::remove_dir_all(&dir);
}
