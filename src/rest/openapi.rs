//! The OpenAPI 3 document of the REST shim, served at `/v4/openapi.json`. It is built from
//! the same tables the handlers dispatch on (`routes::VERBS` for `tickets/{id}:verb`), and a
//! test checks every path in it against the router and every route against it, so the
//! document cannot drift from what answers.

use axum::Json;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathItem,
    PathsBuilder, Ref, Required, ResponseBuilder,
};

use super::routes::{Answer, VERBS};

/// What a route answers on success.
enum Success {
    Ticket(&'static str),
    TicketList,
    Empty(&'static str),
    Fields(&'static [&'static str]),
}

struct Route {
    method: HttpMethod,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    body: bool,
    query: &'static [&'static str],
    success: Success,
}

const INCLUDE: &[&str] = &["include"];

/// The routes that are not `tickets/{id}:verb` (those come from `routes::VERBS`).
const ROUTES: &[Route] = &[
    Route {
        method: HttpMethod::Get,
        path: "/v4/ticketing/tickets",
        id: "listTickets",
        summary: "List tickets, most recently updated first, a page at a time",
        body: false,
        query: &[
            "pageIndex",
            "pageSize",
            "tagid",
            "time",
            "lastRepliedTime",
            "keywords",
            "viewId",
            "contactOrVisitor",
            "contactOrVisitorType",
            "include",
        ],
        success: Success::TicketList,
    },
    Route {
        method: HttpMethod::Post,
        path: "/v4/ticketing/tickets",
        id: "createTicket",
        summary: "Create a ticket",
        body: true,
        query: INCLUDE,
        success: Success::Ticket("201"),
    },
    Route {
        method: HttpMethod::Get,
        path: "/v4/ticketing/tickets/{id}",
        id: "getTicket",
        summary: "Get a ticket",
        body: false,
        query: INCLUDE,
        success: Success::Ticket("200"),
    },
    Route {
        method: HttpMethod::Put,
        path: "/v4/ticketing/tickets/{id}",
        id: "updateTicket",
        summary: "Update a ticket; messages given are appended",
        body: true,
        query: INCLUDE,
        success: Success::Ticket("200"),
    },
    Route {
        method: HttpMethod::Delete,
        path: "/v4/ticketing/tickets/{id}",
        id: "deleteTicket",
        summary: "Delete a ticket",
        body: false,
        query: &[],
        success: Success::Empty("204"),
    },
    Route {
        method: HttpMethod::Post,
        path: "/v4/ticketing/tickets:unreadCount",
        id: "unreadCount",
        summary: "Unread tickets over the site and per view",
        body: true,
        query: &[],
        success: Success::Fields(&["allCount", "unreadCounts"]),
    },
    Route {
        method: HttpMethod::Post,
        path: "/v4/ticketing/tickets:previewmessagetranslationfornewtickets",
        id: "previewMessageTranslationForNewTicketsText",
        summary: "Translate a text for a new ticket",
        body: true,
        query: &[],
        success: Success::Fields(&["translatedText"]),
    },
];

pub fn build() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for r in ROUTES {
        paths = paths.path(r.path, item(r, r.path.to_owned()));
    }
    for (verb, _, answer) in VERBS {
        let path = format!("/v4/ticketing/tickets/{{id}}:{verb}");
        let success = match answer {
            Answer::Ticket(_) => Success::Ticket("200"),
            Answer::Empty => Success::Empty("200"),
            Answer::Field { rest, .. } => Success::Fields(std::slice::from_ref(rest)),
        };
        let route = Route {
            method: HttpMethod::Post,
            path: "",
            id: verb,
            summary: verb,
            body: true,
            query: if matches!(answer, Answer::Ticket(_)) {
                INCLUDE
            } else {
                &[]
            },
            success,
        };
        paths = paths.path(path.clone(), item(&route, path));
    }
    let object = || ObjectBuilder::new().schema_type(Type::Object);
    let string = || ObjectBuilder::new().schema_type(Type::String);
    let components = ComponentsBuilder::new()
        .schema(
            "Ticket",
            object().description(Some(
                "A ticket in the Ticketing API v4 JSON (see the spec's samples)",
            )),
        )
        .schema(
            "Error",
            object()
                .property("code", string())
                .property("message", string())
                .property("field", string())
                .required("code")
                .required("message"),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("deskgraph Ticketing API v4")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The REST shim: each route runs one GraphQL operation on the same schema \
                     as /graphql. Every call needs `Authorization: Bearer TOKEN`.",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components))
        .build()
}

fn item(r: &Route, path: String) -> PathItem {
    let json = "application/json";
    let mut op = OperationBuilder::new()
        .operation_id(Some(r.id))
        .summary(Some(r.summary))
        .tag("tickets");
    if path.contains("{id}") {
        op = op.parameter(
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer))),
        );
    }
    for name in r.query {
        op = op.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
        );
    }
    if r.body {
        let body = ContentBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::Object)))
            .build();
        op = op.request_body(Some(RequestBodyBuilder::new().content(json, body).build()));
    }
    let ticket = || {
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Ticket")))
            .build()
    };
    let (status, response) = match &r.success {
        Success::Ticket(status) => (
            *status,
            ResponseBuilder::new()
                .description("the ticket")
                .content(json, ticket()),
        ),
        Success::TicketList => (
            "200",
            ResponseBuilder::new()
                .description("a page of tickets: {tickets, total, previousPage, nextPage}")
                .content(
                    json,
                    ContentBuilder::new()
                        .schema(Some(
                            ObjectBuilder::new()
                                .schema_type(Type::Object)
                                .property(
                                    "tickets",
                                    utoipa::openapi::schema::ArrayBuilder::new()
                                        .items(Ref::from_schema_name("Ticket")),
                                )
                                .property("total", ObjectBuilder::new().schema_type(Type::Integer))
                                .property(
                                    "previousPage",
                                    ObjectBuilder::new().schema_type(Type::String),
                                )
                                .property(
                                    "nextPage",
                                    ObjectBuilder::new().schema_type(Type::String),
                                ),
                        ))
                        .build(),
                ),
        ),
        Success::Empty(status) => (*status, ResponseBuilder::new().description("done")),
        Success::Fields(fields) => {
            let mut schema = ObjectBuilder::new().schema_type(Type::Object);
            for f in *fields {
                schema = schema.property(*f, ObjectBuilder::new());
            }
            (
                "200",
                ResponseBuilder::new()
                    .description("the answer")
                    .content(json, ContentBuilder::new().schema(Some(schema)).build()),
            )
        }
    };
    let error = || {
        ResponseBuilder::new()
            .description("an error: {code, message, field}")
            .content(
                json,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Error")))
                    .build(),
            )
    };
    let op = op
        .response(status, response)
        .response("4XX", error())
        .response("5XX", error());
    PathItem::new(r.method.clone(), op)
}

/// `GET /v4/openapi.json`.
pub async fn document() -> Response {
    Json(build()).into_response()
}
