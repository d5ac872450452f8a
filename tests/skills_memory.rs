//! The skills extension (SEP-2640) against the in-process testing server,
//! in both eras: listing reads no file, loading reads and verifies the
//! `SKILL.md` (size, digest, frontmatter), later reads are verified the same
//! way, unlisted files are never read, and a server without the extension
//! gets a typed error.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Map, Value};
use switchboard::protocol::{
    ProtocolVersion, Skill, SkillFile, SkillResources, VersionChoice, SKILLS_EXTENSION,
};
use switchboard::skills::sha256_digest;
use switchboard::testing::{demo_server, structured_result, ResourceBody, TestServer, ToolDef};
use switchboard::{Client, Error, SkillError, Source};

const SKILL_MD_URI: &str = "skill://pdf-processing/SKILL.md";
const FORMS_URI: &str = "skill://pdf-processing/references/FORMS.md";
const SKILL_MD: &str = "---\nname: pdf-processing\ndescription: Extract, fill, and assemble PDF documents\n---\n\nSkill body.\n";
const FORMS: &str = "Supporting content.\n";

const VERSIONS: [VersionChoice; 2] = [
    VersionChoice::Auto,
    VersionChoice::Exact(ProtocolVersion::V2025_11_25),
];

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("test exceeded its deadline")
}

fn frontmatter() -> Map<String, Value> {
    match json!({"name": "pdf-processing",
                 "description": "Extract, fill, and assemble PDF documents"})
    {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn listed(uri: &str, bytes: &[u8]) -> SkillFile {
    SkillFile {
        uri: uri.into(),
        digest: sha256_digest(bytes),
        size: bytes.len() as u64,
        ..Default::default()
    }
}

/// The honest entry: what the untampered files hash to.
fn entry() -> Skill {
    Skill {
        uri: SKILL_MD_URI.into(),
        frontmatter: frontmatter(),
        resources: SkillResources::Listed(vec![
            listed(SKILL_MD_URI, SKILL_MD.as_bytes()),
            listed(FORMS_URI, FORMS.as_bytes()),
        ]),
        ..Default::default()
    }
}

type Reads = Arc<Mutex<Vec<String>>>;

/// A server listing `entry` and serving `files` (URI → body) under
/// `skill://pdf-processing/`, recording every read.
fn skill_server(entry: Skill, files: HashMap<String, ResourceBody>) -> (TestServer, Reads) {
    let reads: Reads = Arc::default();
    let files = Arc::new(files);
    let serve = |reads: Reads, files: Arc<HashMap<String, ResourceBody>>| {
        move |uri: String, _vars: HashMap<String, String>| {
            reads
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(uri.clone());
            let body = files.get(&uri).cloned();
            async move { body.ok_or_else(|| format!("no such file: {uri}")) }
        }
    };
    let server = TestServer::builder("skills")
        .skill(entry)
        .template(
            "skill://pdf-processing/{file}",
            "skill files",
            serve(reads.clone(), files.clone()),
        )
        .template(
            "skill://pdf-processing/references/{file}",
            "skill references",
            serve(reads.clone(), files),
        )
        .build();
    (server, reads)
}

fn files(skill_md: &str, forms: ResourceBody) -> HashMap<String, ResourceBody> {
    HashMap::from([
        (SKILL_MD_URI.to_owned(), ResourceBody::Text(skill_md.into())),
        (FORMS_URI.to_owned(), forms),
    ])
}

async fn connect(server: TestServer, version: VersionChoice) -> Client {
    Client::builder(Source::memory(server))
        .protocol(version)
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connect")
}

fn reads_of(reads: &Reads) -> Vec<String> {
    reads.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

#[tokio::test]
async fn lists_without_reading_then_loads_and_reads_verified_files() {
    within(async {
        for version in VERSIONS {
            let (server, reads) =
                skill_server(entry(), files(SKILL_MD, ResourceBody::Text(FORMS.into())));
            let client = connect(server, version).await;
            assert!(client.has_skills(), "{version:?}");

            let skills = client.list_skills().await.expect("skills/list");
            assert_eq!(skills, vec![entry()], "{version:?}");
            assert_eq!(skills[0].name(), Some("pdf-processing"));
            let got = client.get_skill(SKILL_MD_URI).await.expect("skills/get");
            assert_eq!(got, entry());
            assert!(
                reads_of(&reads).is_empty(),
                "listing must not read skill files: {:?}",
                reads_of(&reads)
            );

            let loaded = client.load_skill(&skills[0]).await.expect("load");
            assert_eq!(loaded.instructions(), SKILL_MD);
            assert!(loaded.skill_md().digest_verified());
            assert_eq!(reads_of(&reads), vec![SKILL_MD_URI.to_owned()]);

            let forms = loaded
                .read_file("references/FORMS.md")
                .await
                .expect("read FORMS.md");
            assert_eq!(forms.uri(), FORMS_URI);
            assert_eq!(forms.text(), Some(FORMS));
            assert!(forms.digest_verified());
            // By URI too.
            let again = loaded.read_file(FORMS_URI).await.expect("read by URI");
            assert_eq!(again.bytes(), FORMS.as_bytes());
            assert_eq!(reads_of(&reads).len(), 3);
            client.close().await.expect("close");
        }
    })
    .await;
}

#[tokio::test]
async fn a_skill_md_whose_digest_differs_is_refused() {
    within(async {
        for version in VERSIONS {
            // Same length, other bytes: only the digest can tell.
            let evil = SKILL_MD.replace("Skill body.", "Evil body!!");
            let (server, reads) =
                skill_server(entry(), files(&evil, ResourceBody::Text(FORMS.into())));
            let client = connect(server, version).await;
            let skills = client.list_skills().await.expect("skills/list");
            match client.load_skill(&skills[0]).await {
                Err(Error::Skill(SkillError::DigestMismatch {
                    uri,
                    expected,
                    actual,
                })) => {
                    assert_eq!(uri, SKILL_MD_URI);
                    assert_eq!(expected, sha256_digest(SKILL_MD.as_bytes()));
                    assert_eq!(actual, sha256_digest(evil.as_bytes()));
                }
                other => panic!("{version:?}: expected a digest mismatch, got {other:?}"),
            }
            assert_eq!(reads_of(&reads), vec![SKILL_MD_URI.to_owned()]);
        }
    })
    .await;
}

#[tokio::test]
async fn a_skill_md_whose_size_differs_is_refused() {
    within(async {
        let longer = format!("{SKILL_MD}extra bytes the entry did not account for\n");
        let (server, _reads) =
            skill_server(entry(), files(&longer, ResourceBody::Text(FORMS.into())));
        let client = connect(server, VersionChoice::Auto).await;
        let skills = client.list_skills().await.expect("skills/list");
        match client.load_skill(&skills[0]).await {
            Err(e @ Error::Skill(SkillError::SizeMismatch { .. })) => {
                assert!(e.is_skill_verification());
                let Error::Skill(SkillError::SizeMismatch {
                    expected, actual, ..
                }) = e
                else {
                    unreachable!()
                };
                assert_eq!(expected, SKILL_MD.len() as u64);
                assert_eq!(actual, longer.len() as u64);
            }
            other => panic!("expected a size mismatch, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn a_skill_md_whose_frontmatter_differs_is_not_loaded() {
    within(async {
        // The manifest matches the tampered file byte for byte: only the
        // frontmatter comparison catches it.
        let tampered = SKILL_MD.replace(
            "description: Extract, fill, and assemble PDF documents",
            "description: Exfiltrate credentials",
        );
        let mut skill = entry();
        skill.resources = SkillResources::Listed(vec![
            listed(SKILL_MD_URI, tampered.as_bytes()),
            listed(FORMS_URI, FORMS.as_bytes()),
        ]);
        let (server, reads) =
            skill_server(skill, files(&tampered, ResourceBody::Text(FORMS.into())));
        let client = connect(server, VersionChoice::Auto).await;
        let skills = client.list_skills().await.expect("skills/list");
        match client.load_skill(&skills[0]).await {
            Err(Error::Skill(SkillError::FrontmatterMismatch {
                field,
                listed,
                file,
                ..
            })) => {
                assert_eq!(field, "description");
                assert_eq!(listed, json!("Extract, fill, and assemble PDF documents"));
                assert_eq!(file, json!("Exfiltrate credentials"));
            }
            other => panic!("expected a frontmatter mismatch, got {other:?}"),
        }
        assert_eq!(reads_of(&reads), vec![SKILL_MD_URI.to_owned()]);
    })
    .await;
}

#[tokio::test]
async fn a_tampered_supporting_file_is_refused_and_unlisted_files_are_never_read() {
    within(async {
        let (server, reads) = skill_server(
            entry(),
            files(SKILL_MD, ResourceBody::Text("Supporting content!\n".into())),
        );
        let client = connect(server, VersionChoice::Auto).await;
        let skills = client.list_skills().await.expect("skills/list");
        let loaded = client.load_skill(&skills[0]).await.expect("load");
        assert!(matches!(
            loaded.read_file("references/FORMS.md").await,
            Err(Error::Skill(SkillError::DigestMismatch { .. }))
        ));
        for path in ["secrets.md", "skill://other/SKILL.md", "../other/SKILL.md"] {
            match loaded.read_file(path).await {
                Err(Error::Skill(SkillError::FileNotListed { skill, .. })) => {
                    assert_eq!(skill, SKILL_MD_URI)
                }
                other => panic!("{path}: expected not-listed, got {other:?}"),
            }
        }
        // SKILL.md and the tampered FORMS.md; nothing unlisted.
        assert_eq!(
            reads_of(&reads),
            vec![SKILL_MD_URI.to_owned(), FORMS_URI.to_owned()]
        );
    })
    .await;
}

#[tokio::test]
async fn binary_files_are_verified_on_their_decoded_bytes() {
    within(async {
        let bytes: Vec<u8> = (0..=255u8).rev().collect();
        let mut skill = entry();
        skill.resources = SkillResources::Listed(vec![
            listed(SKILL_MD_URI, SKILL_MD.as_bytes()),
            listed(FORMS_URI, &bytes),
        ]);
        let (server, _reads) =
            skill_server(skill, files(SKILL_MD, ResourceBody::Blob(bytes.clone())));
        let client = connect(server, VersionChoice::Auto).await;
        let skills = client.list_skills().await.expect("skills/list");
        let loaded = client.load_skill(&skills[0]).await.expect("load");
        let blob = loaded.read_file(FORMS_URI).await.expect("blob read");
        assert_eq!(blob.bytes(), &bytes[..]);
        assert!(blob.text().is_none());
    })
    .await;
}

#[tokio::test]
async fn a_dynamic_skill_checks_frontmatter_and_stays_in_its_directory() {
    within(async {
        let mut skill = entry();
        skill.resources = SkillResources::Dynamic;
        let (server, reads) =
            skill_server(skill, files(SKILL_MD, ResourceBody::Text(FORMS.into())));
        let client = connect(server, VersionChoice::Auto).await;
        let skills = client.list_skills().await.expect("skills/list");
        assert_eq!(skills[0].resources, SkillResources::Dynamic);
        let loaded = client.load_skill(&skills[0]).await.expect("load");
        assert!(!loaded.skill_md().digest_verified());
        let forms = loaded
            .read_file("references/FORMS.md")
            .await
            .expect("dynamic read");
        assert!(!forms.digest_verified());
        assert_eq!(forms.text(), Some(FORMS));
        assert!(matches!(
            loaded.read_file("../other/SKILL.md").await,
            Err(Error::Skill(SkillError::FileNotListed { .. }))
        ));
        assert_eq!(reads_of(&reads).len(), 2);

        // A dynamic skill's frontmatter is still checked.
        let mut lying = entry();
        lying.resources = SkillResources::Dynamic;
        lying
            .frontmatter
            .insert("description".into(), json!("Something else"));
        let (server, _reads) =
            skill_server(lying, files(SKILL_MD, ResourceBody::Text(FORMS.into())));
        let client = connect(server, VersionChoice::Auto).await;
        let skills = client.list_skills().await.expect("skills/list");
        assert!(matches!(
            client.load_skill(&skills[0]).await,
            Err(Error::Skill(SkillError::FrontmatterMismatch { .. }))
        ));
    })
    .await;
}

#[tokio::test]
async fn skills_list_follows_pages() {
    within(async {
        let mut other = entry();
        other.uri = "skill://other/SKILL.md".into();
        let server = TestServer::builder("paged")
            .skill(entry())
            .skill(other)
            .page_size(1)
            .build();
        let client = connect(server, VersionChoice::Auto).await;
        let uris: Vec<String> = client
            .list_skills()
            .await
            .expect("skills/list")
            .into_iter()
            .map(|s| s.uri)
            .collect();
        assert_eq!(uris, vec![SKILL_MD_URI, "skill://other/SKILL.md"]);
    })
    .await;
}

#[tokio::test]
async fn a_server_without_the_extension_gets_a_typed_error() {
    within(async {
        for version in VERSIONS {
            let client = connect(demo_server(), version).await;
            assert!(!client.has_skills());
            for result in [
                client.list_skills().await.map(|_| ()),
                client.get_skill(SKILL_MD_URI).await.map(|_| ()),
            ] {
                match result {
                    Err(Error::ExtensionNotDeclared { extension }) => {
                        assert_eq!(extension, SKILLS_EXTENSION)
                    }
                    other => panic!("{version:?}: expected ExtensionNotDeclared, got {other:?}"),
                }
            }
        }
    })
    .await;
}

#[tokio::test]
async fn the_client_declares_the_extension_in_both_eras() {
    within(async {
        for version in VERSIONS {
            let server = TestServer::builder("caps")
                .tool(ToolDef::new("caps"), |ctx, _args| async move {
                    Ok(structured_result(ctx.client_capabilities().clone()))
                })
                .build();
            let client = connect(server, version).await;
            let out = client.call_tool("caps", json!({})).await.expect("caps");
            let caps = out.structured().expect("structured").clone();
            assert_eq!(
                caps["extensions"][SKILLS_EXTENSION],
                json!({}),
                "{version:?}: {caps}"
            );
        }
    })
    .await;
}
