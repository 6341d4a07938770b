//! Declaration files: import and export by category as CSV or E-file.
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiBytes, Identity};
use crate::openapi::StoredDeclarationDoc;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use voltex_formats::efile::Encoding;
use voltex_market::files::FileFormat;
use voltex_model::DeclarationKind;
use voltex_store::StoredDeclaration;

type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Deserialize, IntoParams)]
pub struct FileQuery {
    /// Declaration category, e.g. `energy_offer`.
    pub kind: DeclarationKind,
    /// `csv` or `efile`.
    pub format: FileFormat,
    /// E-file text encoding on export: `utf-8` (default) or `gbk`.
    #[serde(default)]
    pub encoding: Option<String>,
}

/// Import a file of one declaration category into an open session, all or
/// nothing: any file error (with its line and column) or broken rule
/// refuses the whole file.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/declarations/import", tag = "declarations",
    params(("id" = String, Path), FileQuery),
    request_body(content = String, content_type = "text/plain"),
    responses((status = 201, body = Vec<StoredDeclarationDoc>), (status = 422, body = ErrorBody)))]
pub async fn import_declarations(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
    Query(q): Query<FileQuery>,
    ApiBytes(body): ApiBytes,
) -> ApiResult<(StatusCode, Json<Vec<StoredDeclaration>>)> {
    let stored = s
        .market
        .import_declarations(&a, &id, q.kind, q.format, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// Export the latest declarations of one category (the caller's own; the
/// operator's export holds everyone's).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/declarations/export", tag = "declarations",
    params(("id" = String, Path), FileQuery),
    responses((status = 200, content_type = "text/plain", description = "the file")))]
pub async fn export_declarations(
    State(s): State<AppState>,
    Identity(a): Identity,
    Path(id): Path<String>,
    Query(q): Query<FileQuery>,
) -> ApiResult<Response> {
    let encoding = match q.encoding.as_deref() {
        None => Encoding::Utf8,
        Some(name) => Encoding::from_name(name).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_encoding",
                format!("encoding {name:?} is neither utf-8 nor gbk"),
            )
        })?,
    };
    let bytes = s
        .market
        .export_declarations(&a, &id, q.kind, q.format, encoding)
        .await?;
    let (content_type, ext) = match (q.format, encoding) {
        (FileFormat::Csv, _) => ("text/csv; charset=utf-8", "csv"),
        (FileFormat::Efile, Encoding::Utf8) => ("text/plain; charset=utf-8", "e"),
        (FileFormat::Efile, _) => ("text/plain; charset=gbk", "e"),
    };
    let name = format!("attachment; filename=\"{id}-{}.{ext}\"", q.kind);
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}
