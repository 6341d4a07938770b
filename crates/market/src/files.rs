//! Declarations by category as files: import (CSV or E-file, all or
//! nothing) and export (the latest versions, the caller's own or, for the
//! operator, everyone's). The layouts are in docs/declaration-files.md.
use crate::{Actor, Market, MarketError, Result};
use serde::{Deserialize, Serialize};
use voltex_formats::declaration_io::{self, DeclarationRecord};
use voltex_formats::efile::Encoding;
use voltex_model::{DeclarationKind, Violation, Violations};
use voltex_store::{StoreError, StoredDeclaration};

/// Which file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    Csv,
    Efile,
}

impl Market {
    /// Imports a file of one declaration category into an open session for
    /// the acting member. Every row is parsed and every declaration
    /// validated first; if anything is wrong the errors are returned (file
    /// errors with line and column) and nothing is stored. Otherwise all
    /// declarations are stored in one transaction.
    pub async fn import_declarations(
        &self,
        actor: &Actor,
        session_id: &str,
        kind: DeclarationKind,
        format: FileFormat,
        bytes: &[u8],
    ) -> Result<Vec<StoredDeclaration>> {
        let parsed = match format {
            FileFormat::Csv => {
                let text = std::str::from_utf8(bytes).map_err(|e| {
                    MarketError::Invalid(Violations::one(
                        "file",
                        "utf8",
                        "",
                        format!("CSV files must be UTF-8: {e}"),
                    ))
                })?;
                declaration_io::read_csv(kind, text)
            }
            FileFormat::Efile => declaration_io::read_efile(kind, bytes),
        };
        let records = parsed.map_err(|e| {
            MarketError::Invalid(Violations::one("file", "file_syntax", "", e.to_string()))
        })?;
        if records.is_empty() {
            return Err(MarketError::Invalid(Violations::one(
                "file",
                "not_empty",
                "",
                "the file holds no declaration",
            )));
        }
        for _ in 0..3 {
            let session = self.session(session_id).await?;
            let params = self.parameters(session.value.market).await?.value;
            let member = self.acting_member(actor).await?;
            let mut v = Violations::default();
            for (k, r) in records.iter().enumerate() {
                let at = format!("declarations[{k}]");
                if r.session_id != session_id {
                    v.push(Violation::new(
                        format!("{at}.session_id"),
                        "same_session",
                        r.session_id.clone(),
                        format!("the file is imported into {session_id}"),
                    ));
                }
                if r.member_id != actor.member_id {
                    v.push(Violation::new(
                        format!("{at}.member_id"),
                        "own_declarations",
                        r.member_id.clone(),
                        format!("{} may import only its own declarations", actor.member_id),
                    ));
                }
                if let Err(MarketError::Invalid(inner)) = self
                    .validate_with(&params, &member, &session.value, &r.body)
                    .await
                {
                    for x in inner.iter() {
                        v.push(Violation::new(
                            format!("{at}.{}", x.field),
                            &x.rule,
                            x.value.clone(),
                            x.message.clone(),
                        ));
                    }
                }
            }
            v.into_result().map_err(MarketError::Invalid)?;
            let items: Vec<(&str, &voltex_model::DeclarationBody)> = records
                .iter()
                .map(|r| (r.member_id.as_str(), &r.body))
                .collect();
            match self
                .store
                .append_declarations(session_id, session.version, &items)
                .await
            {
                Ok(stored) => {
                    for d in &stored {
                        self.acknowledge(d, &params).await?;
                    }
                    return Ok(stored);
                }
                Err(StoreError::SessionMoved { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(MarketError::Conflict(format!(
            "session {session_id} kept changing state; nothing imported, try again"
        )))
    }

    /// Exports the latest declarations of one category in a session.
    pub async fn export_declarations(
        &self,
        actor: &Actor,
        session_id: &str,
        kind: DeclarationKind,
        format: FileFormat,
        encoding: Encoding,
    ) -> Result<Vec<u8>> {
        let records: Vec<DeclarationRecord> = self
            .declarations(actor, session_id)
            .await?
            .into_iter()
            .filter(|d| d.kind == kind)
            .map(|d| DeclarationRecord {
                member_id: d.member_id,
                session_id: d.session_id,
                body: d.body,
            })
            .collect();
        Ok(match format {
            FileFormat::Csv => declaration_io::write_csv(kind, &records).into_bytes(),
            FileFormat::Efile => declaration_io::write_efile(kind, &records, encoding),
        })
    }
}
