//! Import throughput: a seeded, generated WordPress WXR export of
//! `COMMENTS` comments (400 posts; a third of them replies; mostly
//! published, some pending, spam and trash; prose with the odd tag, link,
//! entity and non-ASCII word, in CDATA) imported into a fresh SQLite file.
//!
//! Each measured run is the whole `colloquy import`: the checking pass,
//! parsing, cleaning, hashing IPs, rendering every comment through Filtered
//! HTML, batched inserts and parent linking. Criterion reports comments per
//! second. Run with `cargo bench --bench import`; `COLLOQUY_BENCH_SEED`
//! changes the export. `COLLOQUY_BENCH_DUMP=FILE` writes the export to
//! `FILE` and exits, for timing `colloquy import` or profiling it.

#![allow(clippy::expect_used)] // a benchmark that cannot set up has nothing to report

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use colloquy::comment::SiteId;
use colloquy::config::Config;
use colloquy::service::Colloquy;
use colloquy::transfer::{import, ImportOptions, Kind, ThreadKeyFrom};
use colloquy::PolicySet;
use criterion::{Criterion, Throughput};

/// Comments in the generated export.
const COMMENTS: u64 = 30_000;

/// Posts they are spread over.
const POSTS: u64 = 400;

/// A small, seeded generator (xorshift64*): the same export every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: [&str; 24] = [
    "the",
    "article",
    "makes",
    "a",
    "good",
    "point",
    "about",
    "café",
    "prices",
    "and",
    "I",
    "think",
    "we",
    "should",
    "consider",
    "naïve",
    "assumptions",
    "here",
    "really",
    "2 < 3",
    "&amp;",
    "Zürich",
    "because",
    "however",
];

fn body(rng: &mut Rng) -> String {
    let mut s = String::new();
    let sentences = 1 + rng.below(6);
    for i in 0..sentences {
        let words = 6 + rng.below(14);
        for w in 0..words {
            if w > 0 {
                s.push(' ');
            }
            match rng.below(40) {
                0 => s.push_str("<em>really</em>"),
                1 => s.push_str("<strong>важно</strong>"),
                2 => s.push_str("https://example.com/some/page?id=42"),
                3 => s.push_str("<a href=\"https://example.org/\">a link</a>"),
                _ => s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]),
            }
        }
        s.push('.');
        if i + 1 < sentences {
            s.push_str(if rng.below(3) == 0 { "\n\n" } else { " " });
        }
    }
    s
}

/// Writes the export; returns its path.
fn generate(dir: &Path, seed: u64) -> PathBuf {
    let mut rng = Rng(seed | 1);
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<rss version=\"2.0\" \
         xmlns:wp=\"http://wordpress.org/export/1.2/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">\n<channel>\n<title>Bench</title>\n",
    );
    let per_post = COMMENTS / POSTS;
    let mut id = 1u64;
    for post in 1..=POSTS {
        let _ = write!(
            xml,
            "<item>\n<title><![CDATA[Post number {post} — «draft»]]></title>\n\
             <link>https://bench.example/{post}/post-{post}/</link>\n<wp:post_id>{post}</wp:post_id>\n\
             <wp:post_date_gmt>2023-01-01 00:00:00</wp:post_date_gmt>\n\
             <wp:comment_status>open</wp:comment_status>\n<wp:post_type>post</wp:post_type>\n"
        );
        let first = id;
        for n in 0..per_post {
            let parent = if n > 0 && rng.below(3) == 0 {
                first + rng.below(n)
            } else {
                0
            };
            let approved = match rng.below(100) {
                0..=84 => "1",
                85..=92 => "0",
                93..=97 => "spam",
                _ => "trash",
            };
            let ip = format!(
                "{}.{}.{}.{}",
                rng.below(223) + 1,
                rng.below(256),
                rng.below(256),
                rng.below(256)
            );
            let minute = n % 60;
            let _ = write!(
                xml,
                "<wp:comment>\n<wp:comment_id>{id}</wp:comment_id>\n\
                 <wp:comment_author><![CDATA[Reader {}]]></wp:comment_author>\n\
                 <wp:comment_author_email><![CDATA[reader{}@example.com]]></wp:comment_author_email>\n\
                 <wp:comment_author_url>https://reader{}.example/</wp:comment_author_url>\n\
                 <wp:comment_author_IP><![CDATA[{ip}]]></wp:comment_author_IP>\n\
                 <wp:comment_date_gmt><![CDATA[2023-{:02}-{:02} {:02}:{minute:02}:00]]></wp:comment_date_gmt>\n\
                 <wp:comment_content><![CDATA[{}]]></wp:comment_content>\n\
                 <wp:comment_approved><![CDATA[{approved}]]></wp:comment_approved>\n\
                 <wp:comment_type><![CDATA[comment]]></wp:comment_type>\n\
                 <wp:comment_parent>{parent}</wp:comment_parent>\n\
                 <wp:comment_user_id>0</wp:comment_user_id>\n</wp:comment>\n",
                rng.below(5000),
                rng.below(5000),
                rng.below(5000),
                1 + post % 12,
                1 + n % 28,
                n / 60 % 24,
                body(&mut rng),
            );
            id += 1;
        }
        xml.push_str("</item>\n");
    }
    xml.push_str("</channel>\n</rss>\n");
    let path = dir.join("bench.xml");
    std::fs::write(&path, xml).expect("write the export");
    path
}

fn bench(c: &mut Criterion) {
    let seed = std::env::var("COLLOQUY_BENCH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0xC011_0C0F_2024_u64);
    let root = std::env::temp_dir().join(format!("colloquy-bench-import-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("temp dir");
    let export = generate(&root, seed);
    if let Ok(path) = std::env::var("COLLOQUY_BENCH_DUMP") {
        std::fs::copy(&export, &path).expect("write the dump");
        let _ = std::fs::remove_dir_all(&root);
        return;
    }
    let bytes = std::fs::metadata(&export).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "import bench: {COMMENTS} comments in {POSTS} posts, {:.1} MB of WXR",
        bytes as f64 / 1e6
    );
    let policies_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies");
    let policies = PolicySet::load_dir(&policies_dir).expect("policies");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let site = SiteId::parse("default").expect("site id");
    let options = ImportOptions {
        kind: Kind::Wordpress,
        thread_key: ThreadKeyFrom::Permalink,
        format: None,
    };

    let mut group = c.benchmark_group("import");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(COMMENTS));
    let mut run = 0u32;
    group.bench_function("wxr_into_sqlite", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                run += 1;
                let db = root.join(format!("run-{run}.db"));
                let config = Config {
                    database_url: format!("sqlite:{}", db.display()),
                    policies_dir: policies_dir.clone(),
                    ..Config::default()
                };
                let service = runtime
                    .block_on(Colloquy::open(config, policies.clone()))
                    .expect("open");
                let start = Instant::now();
                let report = runtime
                    .block_on(import(&service, &site, &export, &options, &|_, _| {}))
                    .expect("import");
                spent += start.elapsed();
                assert_eq!(report.imported.total(), COMMENTS);
                runtime.block_on(service.store().close());
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
                }
            }
            spent
        });
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&root);
}

// What `criterion_group!` and `criterion_main!` expand to, written out so the
// crate's `missing_docs` lint has nothing undocumented to flag.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
