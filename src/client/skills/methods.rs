//! `Client` calls of the skills extension (SEP-2640): list and get skill
//! entries, load a skill, read its files verified. See [`crate::client::skills`].

use crate::client::skills::{check_frontmatter, verify_file, LoadedSkill, SkillContent};
use crate::client::Client;
use crate::protocol::request::{GetSkill, ListSkills};
use crate::protocol::{GetSkillRequestParams, Skill, SkillResources, SKILLS_EXTENSION};
use crate::{Error, Result, SkillError};

impl Client {
    /// True when the server declared the skills extension
    /// (`io.modelcontextprotocol/skills` in `capabilities.extensions`).
    pub fn has_skills(&self) -> bool {
        self.capabilities()
            .is_some_and(|c| c.extension(SKILLS_EXTENSION).is_some())
    }

    fn require_skills(&self) -> Result<()> {
        if self.has_skills() {
            Ok(())
        } else {
            Err(Error::ExtensionNotDeclared {
                extension: SKILLS_EXTENSION.into(),
            })
        }
    }

    /// Every skill the server serves (`skills/list`, all pages): entries
    /// with frontmatter and file manifests. Reads no skill file.
    /// [`Error::ExtensionNotDeclared`] when the server did not declare the
    /// extension (nothing is sent then).
    pub async fn list_skills(&self) -> Result<Vec<Skill>> {
        self.ready().await?;
        self.require_skills()?;
        self.list_all::<ListSkills>().await
    }

    /// One skill's entry by its URI (`skills/get`), e.g. to refresh it
    /// before loading. Reads no skill file.
    pub async fn get_skill(&self, uri: &str) -> Result<Skill> {
        let session = self.ready().await?;
        self.require_skills()?;
        let params = GetSkillRequestParams {
            uri: uri.to_owned(),
        };
        let result = session.send::<GetSkill, _>(&params, None).await?;
        Ok(result.skill)
    }

    /// Loads a skill: reads its `SKILL.md`, checks the bytes against the
    /// manifest (size, then digest) and the parsed frontmatter against the
    /// listed one. Any discrepancy is an error and nothing is loaded; the
    /// skill's other files are not touched here (see
    /// [`LoadedSkill::read_file`]).
    pub async fn load_skill(&self, skill: &Skill) -> Result<LoadedSkill> {
        let skill_md = self.read_skill_file(skill, &skill.uri).await?;
        let text = skill_md.text().ok_or_else(|| {
            Error::Skill(SkillError::Invalid {
                uri: skill.uri.clone(),
                message: "SKILL.md is not UTF-8 text".into(),
            })
        })?;
        check_frontmatter(&skill.uri, &skill.frontmatter, text)?;
        Ok(LoadedSkill {
            client: self.clone(),
            skill: skill.clone(),
            skill_md,
        })
    }

    /// Reads `uri` as a file of `skill`, verified against its manifest
    /// entry; unlisted files are refused before any request.
    pub(crate) async fn read_skill_file(&self, skill: &Skill, uri: &str) -> Result<SkillContent> {
        let listed = match &skill.resources {
            SkillResources::Listed(_) => match skill.file(uri) {
                Some(file) => Some(file),
                None => return Err(not_listed(skill, uri)),
            },
            // No manifest to check against: only files under the skill's
            // own directory.
            SkillResources::Dynamic => {
                let inside = uri
                    .strip_prefix(skill.base_uri())
                    .is_some_and(|rest| !rest.split('/').any(|seg| seg == ".." || seg == "."));
                if !inside {
                    return Err(not_listed(skill, uri));
                }
                None
            }
        };
        let result = self.read_resource(uri).await?;
        let contents = match result.contents.iter().find(|c| c.uri() == uri) {
            Some(c) => Some(c),
            // A server may echo a normalized URI; one content is the file.
            None if result.contents.len() == 1 => result.contents.first(),
            None => None,
        };
        let Some(contents) = contents else {
            return Err(Error::Skill(SkillError::Invalid {
                uri: uri.to_owned(),
                message: "resources/read returned no content for it".into(),
            }));
        };
        let blob = contents.blob_bytes().map_err(|e| {
            Error::Skill(SkillError::Invalid {
                uri: uri.to_owned(),
                message: format!("its blob is not valid base64 ({e})"),
            })
        })?;
        let bytes = match (contents.as_text(), blob) {
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, Some(bytes)) => bytes,
            (None, None) => Vec::new(),
        };
        if let Some(file) = listed {
            verify_file(file, &bytes)?;
        }
        Ok(SkillContent {
            uri: uri.to_owned(),
            mime_type: contents.mime_type().map(str::to_owned),
            bytes,
            digest_verified: listed.is_some(),
        })
    }
}

fn not_listed(skill: &Skill, uri: &str) -> Error {
    Error::Skill(SkillError::FileNotListed {
        skill: skill.uri.clone(),
        uri: uri.to_owned(),
    })
}
