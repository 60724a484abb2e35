#[test]
fn schema_graphql_is_what_deskgraph_schema_prints() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql at the repository root");
    assert!(
        committed == deskgraph::graphql::sdl(),
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql` and commit it"
    );
}
