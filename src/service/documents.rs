//! Official documents (regulations, decrees, press releases) that briefings discuss, and their
//! PDF files.

use chrono::{SubsecRound as _, Utc};
use tokio::io::AsyncReadExt as _;

use super::{Ctx, Error, or_not_found};
use crate::{
    domain::{
        Document, DocumentFile, DocumentId, DocumentPatch, Msg,
        audit::{self, Actor, AuditEntry, Entity},
    },
    service::ingest::{clean_filename, spool_body},
    storage::{
        ByteStream, ObjectKey,
        replace::{Named, Source, delete_unowned, put_then_record},
    },
};

/// A scanned regulation runs to tens of megabytes; far above is not a document.
pub const MAX_FILE_BYTES: u64 = 200 * 1024 * 1024;

/// The document a path names; an id that cannot exist is simply not found.
pub async fn load(ctx: &Ctx, raw_id: &str) -> Result<Document, Error> {
    let id: DocumentId = raw_id
        .parse()
        .map_err(|_| Error::NotFound { what: "document" })?;
    ctx.db.document(id).await.map_err(or_not_found("document"))
}

/// Stores a document parsed by `NewDocument::parse`.
#[tracing::instrument(skip_all)]
pub async fn create(ctx: &Ctx, actor: &Actor, document: Document) -> Result<Document, Error> {
    ctx.db.create_document(&document).await?;
    ctx.audit(
        AuditEntry::new(Entity::Document, document.id, "created", actor)
            .with_changes(audit::created(&document)),
    )
    .await;
    Ok(document)
}

/// Changes the fields `patch` gives; `null` clears an optional one.
#[tracing::instrument(skip_all, fields(id = %old.id))]
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    old: Document,
    patch: DocumentPatch,
) -> Result<Document, Error> {
    let document = Document {
        id: old.id,
        file: old.file.clone(),
        created_at: old.created_at,
        ..patch.applied_to(&old).parse(Utc::now())?
    };
    ctx.db
        .update_document(&document)
        .await
        .map_err(or_not_found("document"))?;
    ctx.audit(
        AuditEntry::new(Entity::Document, document.id, "updated", actor)
            .with_changes(audit::diff(&old, &document)),
    )
    .await;
    Ok(document)
}

/// Makes `body` (a PDF, spooled while it is hashed, never held in memory) the document's file,
/// replacing the one before. Only a file that starts as a PDF does (`%PDF-`) is kept; on any
/// failure nothing is left behind.
#[tracing::instrument(skip_all, fields(id = %document.id))]
pub async fn set_file(
    ctx: &Ctx,
    actor: &Actor,
    document: Document,
    filename: &str,
    body: ByteStream,
) -> Result<Document, Error> {
    let spooled = spool_body(&ctx.spool, body, MAX_FILE_BYTES).await?;
    // When the file arrived, not when its upload began.
    let now = Utc::now();
    let mut magic = [0u8; 5];
    let mut reader = tokio::fs::File::open(spooled.file.path())
        .await
        .map_err(anyhow::Error::from)?;
    let read = reader.read(&mut magic).await.map_err(anyhow::Error::from)?;
    if read < magic.len() || &magic != b"%PDF-" {
        return Err(Error::UnsupportedType {
            code: "unsupported-document",
            msg: Msg::new(
                "Berkas dokumen harus PDF",
                "The document's file must be a PDF",
            ),
        });
    }
    let key = ObjectKey::for_document(document.id.0, &spooled.sha256);
    let file = DocumentFile {
        key: key.as_str().to_owned(),
        filename: clean_filename(filename, "pdf"),
        size_bytes: spooled.size,
        sha256: spooled.sha256.clone(),
        uploaded_at: now.trunc_subsecs(3),
        url: None,
    };
    if document.file.as_ref().is_some_and(|f| f.key == file.key) {
        // The same bytes again: nothing to store.
        return Ok(document);
    }
    let id = document.id;
    let (document, replaced_sha) = put_then_record(
        ctx.store.as_ref(),
        &key,
        Named::ByContent,
        "application/pdf",
        Source::File(spooled.file.path()),
        || async {
            let (document, replaced) = ctx
                .db
                .set_document_file(id, Some(&file), now)
                .await
                .map_err(or_not_found("document"))?;
            let replaced_sha = replaced.as_ref().map(|f| f.sha256.clone());
            let replaced_key = replaced.map(|f| ObjectKey::from_stored(f.key));
            Ok::<_, Error>(((document, replaced_sha), replaced_key))
        },
    )
    .await?;
    ctx.audit(
        AuditEntry::new(Entity::Document, id, "file-set", actor).with_changes(
            serde_json::json!({"file_sha256": {"from": replaced_sha, "to": file.sha256}}),
        ),
    )
    .await;
    super::transparency::record_citing(ctx, id).await;
    Ok(document)
}

/// Removes the document's file: the row first, then the object (a crash between leaves an
/// orphan for the reconciler).
#[tracing::instrument(skip_all, fields(id = %document.id))]
pub async fn remove_file(ctx: &Ctx, actor: &Actor, document: Document) -> Result<(), Error> {
    if document.file.is_none() {
        return Err(Error::NotFound {
            what: "document file",
        });
    }
    let (_, removed) = ctx
        .db
        .set_document_file(document.id, None, Utc::now())
        .await
        .map_err(or_not_found("document"))?;
    if let Some(old) = removed {
        delete_unowned(ctx.store.as_ref(), &ObjectKey::from_stored(old.key.clone())).await;
        ctx.audit(
            AuditEntry::new(Entity::Document, document.id, "file-removed", actor)
                .with_changes(serde_json::json!({"file_sha256": {"from": old.sha256, "to": null}})),
        )
        .await;
        super::transparency::record_citing(ctx, document.id).await;
    }
    Ok(())
}
