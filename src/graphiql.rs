//! GraphiQL, served whole by deskgraph: the page and its assets (GraphiQL, React, graphql-ws)
//! are compiled into the binary, so it works with no internet access. `assets/graphiql/`
//! holds the files, their licenses and `refresh.sh`, which fetches them again from npm.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::app::AppState;

/// Where the page loads its assets from; every asset URL is on this server.
pub const ASSETS_PREFIX: &str = "/graphiql/assets";

/// (file name, content type, bytes).
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "graphql-ws.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphql-ws.min.js"),
    ),
];

/// The versions the assets came from; part of every asset URL, so a refresh changes the URLs
/// and the long cache lifetime below never serves a stale file.
const VERSIONS: &str = include_str!("../assets/graphiql/VERSIONS");

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>deskgraph GraphiQL</title>
<link rel="stylesheet" href="PREFIX/graphiql.min.css?v=VERSION">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL...</div>
<script src="PREFIX/react.production.min.js?v=VERSION"></script>
<script src="PREFIX/react-dom.production.min.js?v=VERSION"></script>
<script src="PREFIX/graphql-ws.min.js?v=VERSION"></script>
<script src="PREFIX/graphiql.min.js?v=VERSION"></script>
<script>
  // Queries and mutations go to /graphql; subscriptions to /graphql/ws on this same host,
  // encrypted when the page was. The headers pane (Authorization) applies to both.
  const here = window.location;
  const wsUrl = (here.protocol === "https:" ? "wss://" : "ws://") + here.host + "/graphql/ws";
  let wsHeaders = {};
  const wsClient = graphqlWs.createClient({
    url: wsUrl,
    lazy: true,
    connectionParams: () => wsHeaders,
  });
  const fetcher = GraphiQL.createFetcher({ url: "/graphql", wsClient });
  const withHeaders = (params, opts) => {
    wsHeaders = (opts && opts.headers) || {};
    return fetcher(params, opts);
  };
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, {
    fetcher: withHeaders,
    defaultHeaders: '{"Authorization": "Bearer "}',
    defaultEditorToolsVisibility: "headers",
  }));
</script>
</body>
</html>
"#;

fn version_tag() -> String {
    // "graphiql 3.8.3\nreact 18.3.1\n..." -> "3.8.3-18.3.1-..."
    VERSIONS
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect::<Vec<_>>()
        .join("-")
}

/// The GraphiQL page.
pub fn page() -> Response {
    let html = PAGE
        .replace("PREFIX", ASSETS_PREFIX)
        .replace("VERSION", &version_tag());
    Html(html).into_response()
}

pub fn router() -> Router<AppState> {
    Router::new().route(&format!("{ASSETS_PREFIX}/{{file}}"), get(asset))
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, ..)| *name == file) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                // The URL changes with the versions, so the file at a URL never changes.
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such GraphiQL asset").into_response(),
    }
}
