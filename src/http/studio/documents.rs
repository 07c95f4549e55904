//! `/studio/documents` (whoever manages documents): the registry of the official documents
//! briefings discuss, each with the briefings citing it, and the form adding one
//! (`service::documents::create`, as `POST /api/v1/documents`). A refusal shows the page again
//! with what was typed and the reason.

use axum::{
    Router,
    extract::{Path, RawQuery, Request, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use chrono::Utc;

use super::{PageError, PageForm, StudioUser, files, page, see_other};
use crate::{
    app::AppState,
    domain::{Document, DocumentPatch, Msg, NewDocument, access::Action},
    http::templates::{
        studio::{Notice, msg},
        studio_documents::{self as view, Registered},
        t,
    },
    service::{
        self,
        documents::{self, MAX_FILE_BYTES},
    },
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/studio/documents", get(list).post(create))
        .route("/studio/documents/{id}", get(edit).post(save))
}

/// The PDF's form: a body as long as a scanned regulation, so among the untimed routes.
pub fn untimed_router() -> Router<AppState> {
    Router::new().route("/studio/documents/{id}/file", post(upload_file))
}

async fn render(
    state: &AppState,
    user: &StudioUser,
    status: StatusCode,
    typed: &NewDocument,
    said: Option<(Notice, &str)>,
) -> Result<Response, PageError> {
    let lang = user.lang;
    let db = state.ctx.db.as_ref();
    let failed = |e: crate::db::DbError| PageError::op(lang, e.into());
    let mut registry = Vec::new();
    // A registry is tens of documents, each cited a few times: one read per document is fine.
    for document in db.list_documents(None).await.map_err(failed)? {
        let citations = db.document_citations(document.id).await.map_err(failed)?;
        registry.push(Registered {
            document,
            citations,
        });
    }
    Ok(page(
        state,
        status,
        lang,
        view::documents(&user.chrome(), &registry, typed, said),
    ))
}

fn empty() -> NewDocument {
    NewDocument {
        title: String::new(),
        number: None,
        kind: None,
        issuer: None,
        issued_on: None,
        url: None,
    }
}

#[tracing::instrument(skip_all)]
async fn list(
    State(state): State<AppState>,
    user: StudioUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    user.require_somewhere(Action::ManageDocuments)?;
    let done = (query.as_deref() == Some("done=1")).then(|| {
        (
            Notice::Done,
            t(user.lang, "Dokumen tersimpan.", "Document saved."),
        )
    });
    render(&state, &user, StatusCode::OK, &empty(), done).await
}

#[tracing::instrument(skip_all)]
async fn create(
    State(state): State<AppState>,
    user: StudioUser,
    PageForm(typed): PageForm<NewDocument>,
) -> Result<Response, PageError> {
    user.require_somewhere(Action::ManageDocuments)?;
    let lang = user.lang;
    let created = match typed.clone().parse(Utc::now()) {
        Ok(document) => documents::create(&state.ctx, &user.actor(), document).await,
        Err(rejection) => Err(service::Error::from(rejection)),
    };
    match created {
        Ok(_) => Ok(see_other("/studio/documents?done=1")),
        Err(e @ service::Error::Invalid { .. }) => {
            let text = msg(lang, &e.message()).to_owned();
            let said = Some((Notice::Error, text.as_str()));
            render(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                &typed,
                said,
            )
            .await
        }
        Err(e) => Err(PageError::op(lang, e)),
    }
}

/// The form's values of a stored document.
fn typed_of(d: &Document) -> NewDocument {
    NewDocument {
        title: d.title.clone(),
        number: d.number.clone(),
        kind: Some(d.kind.as_str().to_owned()),
        issuer: d.issuer.clone(),
        issued_on: d.issued_on.map(|on| on.to_string()),
        url: d.url.clone(),
    }
}

async fn load(state: &AppState, user: &StudioUser, id: &str) -> Result<Document, PageError> {
    user.require_somewhere(Action::ManageDocuments)?;
    documents::load(&state.ctx, id)
        .await
        .map_err(|e| PageError::op(user.lang, e))
}

async fn render_edit(
    state: &AppState,
    user: &StudioUser,
    status: StatusCode,
    document: Document,
    typed: &NewDocument,
    said: Option<(Notice, &str)>,
) -> Result<Response, PageError> {
    let lang = user.lang;
    let citations = state
        .ctx
        .db
        .document_citations(document.id)
        .await
        .map_err(|e| PageError::op(lang, e.into()))?;
    let file_url = document
        .file
        .as_ref()
        .map(|f| state.ctx.urls.document_file(document.id, &f.file_name()));
    let r = Registered {
        document,
        citations,
    };
    Ok(page(
        state,
        status,
        lang,
        view::edit(&user.chrome(), &r, typed, file_url.as_deref(), said),
    ))
}

#[tracing::instrument(skip_all, fields(%id))]
async fn edit(
    State(state): State<AppState>,
    user: StudioUser,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let document = load(&state, &user, &id).await?;
    let done = (query.as_deref() == Some("done=1")).then(|| {
        (
            Notice::Done,
            t(user.lang, "Dokumen tersimpan.", "Document saved."),
        )
    });
    let typed = typed_of(&document);
    render_edit(&state, &user, StatusCode::OK, document, &typed, done).await
}

/// `POST /studio/documents/{id}`: every field as the form has it (an empty optional field is
/// cleared), through `service::documents::update`, as `PATCH /api/v1/documents/{id}`.
#[tracing::instrument(skip_all, fields(%id))]
async fn save(
    State(state): State<AppState>,
    user: StudioUser,
    Path(id): Path<String>,
    PageForm(typed): PageForm<NewDocument>,
) -> Result<Response, PageError> {
    let lang = user.lang;
    let document = load(&state, &user, &id).await?;
    let given = |v: &Option<String>| Some(v.clone().filter(|v| !v.trim().is_empty()));
    let patch = DocumentPatch {
        title: Some(typed.title.clone()),
        number: given(&typed.number),
        kind: typed.kind.clone(),
        issuer: given(&typed.issuer),
        issued_on: given(&typed.issued_on),
        url: given(&typed.url),
    };
    match documents::update(&state.ctx, &user.actor(), document.clone(), patch).await {
        Ok(saved) => Ok(see_other(&format!("/studio/documents/{}?done=1", saved.id))),
        Err(e @ service::Error::Invalid { .. }) => {
            let text = msg(lang, &e.message()).to_owned();
            let said = Some((Notice::Error, text.as_str()));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_edit(&state, &user, status, document, &typed, said).await
        }
        Err(e) => Err(PageError::op(lang, e)),
    }
}

/// `POST /studio/documents/{id}/file` (`multipart/form-data`: `csrf`, then `file`): the PDF
/// streams into `service::documents::set_file`, the operation `PUT /api/v1/documents/{id}/file`
/// calls (spooled and hashed, only a PDF kept, nothing left behind on a refusal).
#[tracing::instrument(skip_all, fields(%id))]
async fn upload_file(
    State(state): State<AppState>,
    user: Result<StudioUser, PageError>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, PageError> {
    let user = match user {
        Ok(user) => user,
        Err(e) => return Ok(files::sign_in_first(e)),
    };
    let lang = user.lang;
    let document = load(&state, &user, &id).await?;
    let what = Msg::new("Pilih berkas PDF dulu.", "Choose the PDF file first.");
    let posted =
        files::posted_file(&state, &user.session, lang, req, MAX_FILE_BYTES, &what).await?;
    let set = match posted {
        Ok(file) => {
            let filename = file.filename.clone();
            documents::set_file(
                &state.ctx,
                &user.actor(),
                document.clone(),
                &filename,
                file.stream(),
            )
            .await
            .map_err(|e| files::refusal(lang, e))
        }
        Err(refused) => Err(Ok(refused)),
    };
    match set {
        Ok(saved) => Ok(see_other(&format!("/studio/documents/{}?done=1", saved.id))),
        Err(refused) => {
            let (status, text) = refused?;
            let typed = typed_of(&document);
            let said = Some((Notice::Error, text.as_str()));
            render_edit(&state, &user, status, document, &typed, said).await
        }
    }
}
