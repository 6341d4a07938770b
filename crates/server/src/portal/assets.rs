//! The portal's static files, embedded in the binary at compile time and
//! served at `/assets/<name>` (no CDN, no build step): htmx and the
//! stylesheet. Provenance and licences: `portal/assets/README.md`.
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// (name, content type, bytes) of every asset.
pub(crate) const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/htmx.min.js"),
    ),
    (
        "portal.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/portal.css"),
    ),
];

/// `GET /assets/{name}`.
pub(crate) async fn serve(Path(name): Path<String>) -> Response {
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let mut r = (*bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stylesheet_uses_only_the_chart_palette() {
        let css = ASSETS.iter().find(|a| a.0 == "portal.css").unwrap().2;
        let css = std::str::from_utf8(css).unwrap();
        assert_eq!(
            voltex_charts::palette::foreign_colours(css),
            Vec::<String>::new()
        );
    }
}
