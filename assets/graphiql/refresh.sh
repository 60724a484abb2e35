#!/usr/bin/env bash
# Refreshes the GraphiQL assets that deskgraph embeds and serves itself (so GraphiQL works with
# no internet access). Fetches the packages with `npm pack` and copies their prebuilt browser
# bundles and licenses here. Change a version, run this, commit the result.
set -euo pipefail
cd "$(dirname "$0")"

GRAPHIQL=3.8.3     # the last major with a UMD bundle (4.x ships ES modules only)
REACT=18.3.1       # graphiql 3 wants React 18
GRAPHQL_WS=5.16.2  # UMD build, exposes window.graphqlWs

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() { # package version file-in-package destination
  local pkg=$1 ver=$2 src=$3 dst=$4
  if [ ! -d "$tmp/$pkg-$ver" ]; then
    mkdir -p "$tmp/$pkg-$ver"
    (cd "$tmp" && npm pack -q "$pkg@$ver" >/dev/null)
    tar xzf "$tmp/$pkg-$ver.tgz" -C "$tmp/$pkg-$ver"
  fi
  cp "$tmp/$pkg-$ver/package/$src" "$dst"
}
fetch graphiql "$GRAPHIQL" graphiql.min.js graphiql.min.js
fetch graphiql "$GRAPHIQL" graphiql.min.css graphiql.min.css
fetch graphiql "$GRAPHIQL" LICENSE LICENSE.graphiql
fetch react "$REACT" umd/react.production.min.js react.production.min.js
fetch react "$REACT" LICENSE LICENSE.react
fetch react-dom "$REACT" umd/react-dom.production.min.js react-dom.production.min.js
fetch react-dom "$REACT" LICENSE LICENSE.react-dom
fetch graphql-ws "$GRAPHQL_WS" umd/graphql-ws.min.js graphql-ws.min.js
fetch graphql-ws "$GRAPHQL_WS" LICENSE.md LICENSE.graphql-ws
printf 'graphiql %s\nreact %s\nreact-dom %s\ngraphql-ws %s\n' "$GRAPHIQL" "$REACT" "$REACT" "$GRAPHQL_WS" > VERSIONS
echo "GraphiQL assets refreshed:"; cat VERSIONS
