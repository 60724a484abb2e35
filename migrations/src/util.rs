//! Small builders shared by the migrations, so each table reads as a list of its columns.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveIden)]
pub enum Sites {
    Table,
    Id,
}

/// `site_id uuid not null` referencing `sites(id)`, removed with its site.
pub fn site_column(table: &mut TableCreateStatement, name: impl IntoIden + Clone + 'static) {
    table.col(uuid("site_id")).foreign_key(
        ForeignKey::create()
            .name(format!("fk_{}_site", name.clone().into_iden().inner()))
            .from(name, "site_id")
            .to(Sites::Table, Sites::Id)
            .on_delete(ForeignKeyAction::Cascade),
    );
}

/// A `(site_id, id)` unique key: the target of the composite foreign keys that keep a child row
/// in its parent's site.
pub fn site_scoped_key(table: &str) -> IndexCreateStatement {
    Index::create()
        .name(format!("ux_{table}_site_id"))
        .table(table.to_owned())
        .col("site_id")
        .col("id")
        .unique()
        .to_owned()
}

pub fn index(table: &str, name: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(format!("ix_{table}_{name}"))
        .table(table.to_owned());
    for c in cols {
        idx.col(ToString::to_string(c));
    }
    idx.to_owned()
}

pub fn unique_index(table: &str, name: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut idx = index(table, name, cols);
    idx.name(format!("ux_{table}_{name}")).unique();
    idx
}

/// A foreign key from `(site_id, from_col)` to `parent(site_id, id)`.
pub fn same_site_fk(
    table: &str,
    from_col: &str,
    parent: &str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{from_col}"))
        .from(
            table.to_owned(),
            ("site_id".to_owned(), from_col.to_owned()),
        )
        .to(parent.to_owned(), ("site_id".to_owned(), "id".to_owned()))
        .on_delete(on_delete)
        .to_owned()
}

/// A plain foreign key from `from_col` to `parent(id)`.
pub fn fk(
    table: &str,
    from_col: &str,
    parent: &str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{from_col}"))
        .from(table.to_owned(), from_col.to_owned())
        .to(parent.to_owned(), "id".to_owned())
        .on_delete(on_delete)
        .to_owned()
}

/// The standard head of a site-scoped table: a UUID primary key and `site_id`.
pub fn site_table(name: &str) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(name.to_owned()).col(pk_uuid("id"));
    site_column(&mut t, name.to_owned());
    t
}

pub fn created_time() -> ColumnDef {
    timestamp_with_time_zone("created_time")
}

pub async fn create_indexes(
    manager: &SchemaManager<'_>,
    indexes: Vec<IndexCreateStatement>,
) -> Result<(), DbErr> {
    for idx in indexes {
        manager.create_index(idx).await?;
    }
    Ok(())
}
