//! The command-line interface: argument parsing and printing only; the work
//! is done by the library.

use std::io::{self, BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use colloquy::{Policy, PolicySet};

#[derive(Debug, Parser)]
#[command(
    name = "colloquy",
    version,
    about = "Colloquy: a self-hosted comment engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render a raw comment read on stdin to HTML on stdout.
    Render {
        /// The text format (policy id), e.g. filtered_html, plain_text, markdown.
        #[arg(long)]
        format: String,
        /// Directory of policy files [default: ./policies if it exists, else the bundled ones].
        #[arg(long, value_name = "DIR")]
        policies: Option<PathBuf>,
        /// Render many comments: each stdin line is a JSON string, each output line the JSON string of its HTML.
        #[arg(long)]
        jsonl: bool,
    },
    /// List the text formats with their tips.
    Formats {
        /// Show the long tips.
        #[arg(long)]
        long: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Directory of policy files [default: ./policies if it exists, else the bundled ones].
        #[arg(long, value_name = "DIR")]
        policies: Option<PathBuf>,
    },
    /// Work with policy files.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Run the comment service (HTTP API) until Ctrl-C or SIGTERM.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        #[command(flatten)]
        service: ServiceArgs,
    },
    /// Re-render a site's stored comments whose policy has changed.
    Rerender {
        /// The site.
        #[arg(long)]
        site: String,
        #[command(flatten)]
        service: ServiceArgs,
    },
    /// Import a site's comments from another system's export (safe to run again).
    Import {
        /// The site to import into.
        #[arg(long)]
        site: String,
        /// What FILE is: wordpress (WXR), disqus (XML), drupal7 (CSV or JSON), isso (SQLite), colloquy (our JSON export).
        #[arg(long, value_name = "KIND")]
        from: String,
        /// What threads are keyed by: permalink, path or id.
        #[arg(long, value_name = "KEY", default_value = "permalink")]
        thread_key: String,
        /// Store every comment in this format instead of the source's usual one.
        #[arg(long, value_name = "ID")]
        format: Option<String>,
        /// The export file.
        file: PathBuf,
        #[command(flatten)]
        service: ServiceArgs,
    },
    /// Export everything stored for a site (to stdout unless --output is given).
    Export {
        /// The site.
        #[arg(long)]
        site: String,
        /// json (JSON Lines, read back with `import --from colloquy`) or wxr (WordPress).
        #[arg(long, value_name = "FORMAT", default_value = "json")]
        format: String,
        /// Include e-mail addresses and IP hashes.
        #[arg(long)]
        include_private: bool,
        /// Write to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        service: ServiceArgs,
    },
    /// A site's spam model: evaluate, retrain, export.
    Scoring {
        #[command(subcommand)]
        command: ScoringCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ScoringCommand {
    /// Evaluate by time: learn the site's earlier moderator decisions, test on the latest.
    Eval {
        /// The site.
        #[arg(long)]
        site: String,
        /// Share of the latest decisions to test on.
        #[arg(long, value_name = "SHARE", default_value_t = 0.2)]
        test_share: f64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        service: ServiceArgs,
    },
    /// Rebuild the site's model from the starter and every moderator decision, in order.
    Retrain {
        /// The site.
        #[arg(long)]
        site: String,
        #[command(flatten)]
        service: ServiceArgs,
    },
    /// Write the site's model (its binary form) to a file.
    Export {
        /// The site.
        #[arg(long)]
        site: String,
        /// The file to write.
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
        #[command(flatten)]
        service: ServiceArgs,
    },
}

/// Where the service finds its configuration, database and policies
/// (`serve` adds `--listen`; the other commands listen on nothing).
#[derive(Debug, clap::Args)]
struct ServiceArgs {
    /// Configuration file [default: ./colloquy.toml if it exists].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database: sqlite:PATH or postgres://USER@HOST/DB.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// Directory of policy files [default: ./policies, else the bundled ones].
    #[arg(long, value_name = "DIR")]
    policies: Option<PathBuf>,
}

impl ServiceArgs {
    fn load(&self) -> Result<colloquy::config::Config, String> {
        self.load_listening(None)
    }

    fn load_listening(&self, listen: Option<String>) -> Result<colloquy::config::Config, String> {
        let overrides = colloquy::config::Overrides {
            config: self.config.clone(),
            listen,
            database: self.database.clone(),
            policies: self.policies.clone(),
        };
        colloquy::config::Config::load(&overrides, |k| std::env::var(k).ok())
            .map(|(c, _)| c)
            .map_err(|e| format!("configuration: {e}"))
    }
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Validate every policy file in a directory; reports every broken file.
    Check {
        /// The directory to check.
        dir: PathBuf,
    },
}

pub(crate) fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Render {
            format,
            policies,
            jsonl,
        } => render(&format, policies.as_deref(), jsonl),
        Command::Formats {
            long,
            json,
            policies,
        } => formats(long, json, policies.as_deref()),
        Command::Policy {
            command: PolicyCommand::Check { dir },
        } => check(&dir),
        Command::Serve { listen, service } => serve(listen, &service),
        Command::Rerender { site, service } => rerender(&site, &service),
        Command::Import {
            site,
            from,
            thread_key,
            format,
            file,
            service,
        } => import(&site, &from, &thread_key, format, &file, &service),
        Command::Export {
            site,
            format,
            include_private,
            output,
            service,
        } => export(&site, &format, include_private, output.as_deref(), &service),
        Command::Scoring { command } => scoring(command),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("colloquy: {message}");
            ExitCode::FAILURE
        }
    }
}

fn load_policies(dir: Option<&Path>) -> Result<PolicySet, String> {
    match dir {
        Some(dir) => PolicySet::load_dir(dir).map_err(|e| e.to_string()),
        None if Path::new("policies").is_dir() => {
            PolicySet::load_dir(Path::new("policies")).map_err(|e| e.to_string())
        }
        None => Ok(PolicySet::bundled()),
    }
}

fn find<'a>(set: &'a PolicySet, id: &str) -> Result<&'a Policy, String> {
    set.get(id).ok_or_else(|| {
        let known: Vec<&str> = set.ids().collect();
        format!("unknown format `{id}`; known formats: {}", known.join(", "))
    })
}

/// Writes part of a command's report to standard output. A reader that
/// went away (`colloquy import … | head -1`) ends the output, not the
/// command: the work it reports on is done either way.
fn say(text: &str) -> Result<(), String> {
    match io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(format!("standard output: {e}")),
        _ => Ok(()),
    }
}

fn render(format: &str, dir: Option<&Path>, jsonl: bool) -> Result<ExitCode, String> {
    let set = load_policies(dir)?;
    let policy = find(&set, format)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if jsonl {
        let stdin = io::stdin();
        let mut line = Vec::new();
        let mut reader = stdin.lock();
        let mut number = 0usize;
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("stdin: {e}"))?;
            if n == 0 {
                break;
            }
            number += 1;
            let raw = line.strip_suffix(b"\n").unwrap_or(&line);
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            // serde_json checks the UTF-8 of what it decodes; the whole line
            // is looked at again only to explain an error.
            let comment: String =
                serde_json::from_slice(raw).map_err(|e| match std::str::from_utf8(raw) {
                    Err(u) => format!("stdin:{number}: invalid UTF-8 at byte {}", u.valid_up_to()),
                    Ok(_) => format!("stdin:{number}: expected a JSON string: {e}"),
                })?;
            let html = policy.render_html(&comment);
            // Straight into the output buffer: no encoded copy per comment.
            if serde_json::to_writer(&mut out, html.as_str()).is_err()
                || out.write_all(b"\n").is_err()
            {
                return Ok(ExitCode::SUCCESS); // the reader went away
            }
        }
    } else {
        let mut bytes = Vec::new();
        io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("stdin: {e}"))?;
        let raw = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            format!("stdin:{line}: invalid UTF-8 at byte {at}")
        })?;
        let html = policy.render(&raw).html;
        if out.write_all(html.as_str().as_bytes()).is_err() {
            return Ok(ExitCode::SUCCESS);
        }
    }
    let _ = out.flush();
    Ok(ExitCode::SUCCESS)
}

fn formats(long: bool, json: bool, dir: Option<&Path>) -> Result<ExitCode, String> {
    let set = load_policies(dir)?;
    let mut out = String::new();
    if json {
        let list: Vec<serde_json::Value> = set
            .iter()
            .map(|p| {
                serde_json::json!({
                    "id": p.id(),
                    "name": p.name(),
                    "version": p.version(),
                    "tips": p.tips(),
                    "long_tips": p.long_tips(),
                })
            })
            .collect();
        out = serde_json::to_string_pretty(&list).map_err(|e| e.to_string())?;
        out.push('\n');
    } else {
        for p in set.iter() {
            out.push_str(&format!("{}  {}  ({})\n", p.id(), p.name(), p.version()));
            let tips = if long { p.long_tips() } else { p.tips() };
            for tip in tips {
                out.push_str(&format!("  - {tip}\n"));
            }
        }
    }
    say(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn check(dir: &Path) -> Result<ExitCode, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{}: no policy files (*.toml) found", dir.display()));
    }
    let mut failed = 0;
    let mut ids: Vec<(String, PathBuf)> = Vec::new();
    for path in &files {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{shown}: {e}");
                failed += 1;
                continue;
            }
        };
        match Policy::check_toml(&shown, &text) {
            Ok(p) => {
                if let Some((_, first)) = ids.iter().find(|(id, _)| id == p.id()) {
                    eprintln!(
                        "{shown}: id `{}` is already used by {}",
                        p.id(),
                        first.display()
                    );
                    failed += 1;
                    continue;
                }
                say(&format!(
                    "ok  {shown}: {} ({}), filters: {}, version {}\n",
                    p.id(),
                    p.name(),
                    p.filter_kinds().join(" > "),
                    p.version()
                ))?;
                ids.push((p.id().to_owned(), path.clone()));
            }
            Err(errors) => {
                for e in errors {
                    eprintln!("{e}");
                }
                failed += 1;
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} policy files are invalid", files.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("COLLOQUY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .try_init();
}

fn serve(listen: Option<String>, args: &ServiceArgs) -> Result<ExitCode, String> {
    let config = args.load_listening(listen)?;
    init_logging();
    runtime()?.block_on(async move {
        let db = colloquy::config::redact_url(&config.database_url);
        let app = colloquy::server::Application::build(config)
            .await
            .map_err(|e| format!("cannot start: {e}"))?;
        let addr = app.local_addr().map_err(|e| e.to_string())?;
        tracing::info!(%addr, database = %db, "colloquy listening");
        eprintln!("colloquy: listening on http://{addr} (database {db})");
        app.run_until(colloquy::server::shutdown_signal())
            .await
            .map_err(|e| format!("server: {e}"))?;
        Ok(ExitCode::SUCCESS)
    })
}

fn rerender(site: &str, args: &ServiceArgs) -> Result<ExitCode, String> {
    let config = args.load()?;
    runtime()?.block_on(async move {
        let service = open_service(config).await?;
        let site = colloquy::comment::SiteId::parse(site).map_err(|e| e.to_string())?;
        let total = service.count_site(&site).await.map_err(|e| e.to_string())?;
        let bar = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(0));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} comments ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let report = service
            .rerender(&site, |n| bar.set_position(n))
            .await
            .map_err(|e| e.to_string())?;
        bar.finish_and_clear();
        say(&format!(
            "{}: {} comments checked, {} re-rendered, {} skipped (format no longer exists)\n",
            site, report.checked, report.rerendered, report.skipped
        ))?;
        Ok(ExitCode::SUCCESS)
    })
}

async fn open_service(
    mut config: colloquy::config::Config,
) -> Result<colloquy::service::Colloquy, String> {
    // A one-off command (import, export, rerender) on a database that
    // servers use warns about settings that differ from theirs instead of
    // refusing: it serves no reader.
    config.config_mismatch = colloquy::config::MismatchPolicy::Warn;
    let policies = colloquy::server::load_policies(&config).map_err(|e| e.to_string())?;
    colloquy::service::Colloquy::open(config, policies)
        .await
        .map_err(|e| e.to_string())
}

fn scoring(command: ScoringCommand) -> Result<ExitCode, String> {
    let (site, service) = match &command {
        ScoringCommand::Eval { site, service, .. }
        | ScoringCommand::Retrain { site, service }
        | ScoringCommand::Export { site, service, .. } => (site.clone(), service),
    };
    let config = service.load()?;
    if let Some(file) = config.sqlite_file() {
        if !file.exists() {
            return Err(format!(
                "there is no database at {}; name yours with --database sqlite:PATH",
                file.display()
            ));
        }
    }
    runtime()?.block_on(async move {
        let service = open_service(config).await?;
        let site = colloquy::comment::SiteId::parse(&site).map_err(|e| e.to_string())?;
        let out = match command {
            ScoringCommand::Eval {
                test_share, json, ..
            } => {
                let e = service
                    .evaluate_scoring(&site, test_share)
                    .await
                    .map_err(|e| e.to_string())?;
                if json {
                    let row = |name: &str, v: &colloquy::scoring::Evaluation| {
                        serde_json::json!({
                            "model": name, "threshold": v.threshold,
                            "precision": v.precision, "recall": v.recall,
                            "false_positive_rate": v.false_positive_rate,
                            "accuracy": v.accuracy, "auc": v.auc,
                            "spam": v.spam(), "ham": v.ham(),
                        })
                    };
                    format!(
                        "{}\n",
                        serde_json::json!({
                            "site": site.as_str(),
                            "trained_on": e.trained_on,
                            "tested_on": e.tested_on,
                            "results": [
                                row("site", &e.at_hold),
                                row("site", &e.at_spam),
                                row("starter", &e.starter_at_hold),
                            ],
                        })
                    )
                } else {
                    let mut t = format!(
                        "{site}: learned {} decisions, tested on the latest {} ({} spam, {} ham)\n\n\
                         | model | threshold | precision | recall | false positives | accuracy | ROC AUC |\n\
                         |---|---:|---:|---:|---:|---:|---:|\n",
                        e.trained_on,
                        e.tested_on,
                        e.at_hold.spam(),
                        e.at_hold.ham()
                    );
                    for (name, v) in [
                        ("site", &e.at_hold),
                        ("site", &e.at_spam),
                        ("starter", &e.starter_at_hold),
                    ] {
                        // Nothing flagged: precision is undefined.
                        let precision = if v.precision.is_nan() {
                            "–".to_owned()
                        } else {
                            format!("{:.1} %", v.precision * 100.0)
                        };
                        t.push_str(&format!(
                            "| {name} | {:.2} | {precision} | {:.1} % | {:.1} % | {:.1} % | {:.3} |\n",
                            v.threshold,
                            v.recall * 100.0,
                            v.false_positive_rate * 100.0,
                            v.accuracy * 100.0,
                            v.auc
                        ));
                    }
                    t
                }
            }
            ScoringCommand::Retrain { .. } => {
                let m = service
                    .retrain_scoring(&site)
                    .await
                    .map_err(|e| e.to_string())?;
                format!(
                    "{site}: model version {} learned {} decisions ({} spam, {} ham), {} bytes\n",
                    m.version,
                    m.spam_learned + m.ham_learned,
                    m.spam_learned,
                    m.ham_learned,
                    m.bytes
                )
            }
            ScoringCommand::Export { output, .. } => {
                let bytes = service
                    .export_scoring_model(&site)
                    .await
                    .map_err(|e| e.to_string())?;
                std::fs::write(&output, &bytes)
                    .map_err(|e| format!("{}: {e}", output.display()))?;
                format!("{site}: wrote {} bytes to {}\n", bytes.len(), output.display())
            }
        };
        say(&out)?;
        Ok(ExitCode::SUCCESS)
    })
}

fn import(
    site: &str,
    from: &str,
    thread_key: &str,
    format: Option<String>,
    file: &Path,
    args: &ServiceArgs,
) -> Result<ExitCode, String> {
    use colloquy::transfer::{import, ImportOptions, Kind, ThreadKeyFrom};
    let options = ImportOptions {
        kind: Kind::parse(from)?,
        thread_key: ThreadKeyFrom::parse(thread_key)?,
        format,
    };
    let config = args.load()?;
    runtime()?.block_on(async move {
        let service = open_service(config).await?;
        let site = colloquy::comment::SiteId::parse(site).map_err(|e| e.to_string())?;
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} comments ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let progress = |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        };
        let result = import(&service, &site, file, &options, &progress).await;
        bar.finish_and_clear();
        let report = result.map_err(|e| e.to_string())?;
        let i = &report.imported;
        let mut out = format!(
            "{}: {} records read from {}; {} comments imported in {} threads \
             (published {}, pending {}, spam {}, trash {}); {} already there; {} skipped\n",
            site,
            report.read,
            file.display(),
            i.total(),
            report.threads,
            i.published,
            i.pending,
            i.spam,
            i.trash,
            report.already,
            report.skipped.len()
        );
        for s in &report.skipped {
            out.push_str(&format!("skipped {s}\n"));
        }
        for n in &report.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        say(&out)?;
        Ok(ExitCode::SUCCESS)
    })
}

fn export(
    site: &str,
    format: &str,
    include_private: bool,
    output: Option<&Path>,
    args: &ServiceArgs,
) -> Result<ExitCode, String> {
    use colloquy::transfer::export::{export, ExportFormat};
    let format = ExportFormat::parse(format)?;
    let config = args.load()?;
    // An export reads what is there: opening a SQLite file that does not
    // exist would create an empty database (and a key file) and report an
    // empty backup as a success.
    if let Some(file) = config.sqlite_file() {
        if !file.exists() {
            return Err(format!(
                "there is no database at {}: export reads an existing database and creates \
                 none; name yours with --database sqlite:PATH (or COLLOQUY_DATABASE_URL, or \
                 database_url in colloquy.toml)",
                file.display()
            ));
        }
    }
    runtime()?.block_on(async move {
        let service = open_service(config).await?;
        let site = colloquy::comment::SiteId::parse(site).map_err(|e| e.to_string())?;
        // Written next to the target and renamed at the end, so a failed
        // export never leaves a partial file under the name asked for.
        let summary = match output {
            Some(path) => {
                let partial = path.with_extension("partial");
                let file = std::fs::File::create(&partial)
                    .map_err(|e| format!("{}: {e}", partial.display()))?;
                let mut out = BufWriter::new(file);
                let summary = export(&service, &site, format, include_private, &mut out)
                    .await
                    .map_err(|e| {
                        let _ = std::fs::remove_file(&partial);
                        e.to_string()
                    })?;
                drop(out);
                std::fs::rename(&partial, path).map_err(|e| format!("{}: {e}", path.display()))?;
                summary
            }
            None => {
                let mut out = BufWriter::new(io::stdout());
                export(&service, &site, format, include_private, &mut out)
                    .await
                    .map_err(|e| e.to_string())?
            }
        };
        eprintln!(
            "{site}: exported {} threads and {} comments",
            summary.threads, summary.comments
        );
        Ok(ExitCode::SUCCESS)
    })
}
