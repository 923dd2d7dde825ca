//! Routes as data. Every route is registered through [`Routes`], which builds the axum
//! router and records each `(method, path)` it serves, so that the route table is one
//! definition: the router serves it, and the tests check the served OpenAPI document
//! against it (a route added without documentation fails there; nothing reads source
//! text).

use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{self, MethodRouter};
use std::collections::BTreeSet;

/// An HTTP method a route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// `GET` (axum answers `HEAD` with it).
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The method's name, upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// The router under construction, with the table of what it serves.
pub struct Routes {
    router: Router<AppState>,
    table: BTreeSet<(Method, &'static str)>,
}

impl Default for Routes {
    fn default() -> Routes {
        Routes::new()
    }
}

impl Routes {
    /// No route yet.
    pub fn new() -> Routes {
        Routes {
            router: Router::new(),
            table: BTreeSet::new(),
        }
    }

    /// `GET path` (and `HEAD`) answered by `handler`.
    pub fn get<H, T>(self, path: &'static str, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::Get, path, routing::get(handler))
    }

    /// `POST path` answered by `handler`, with the service's default body limit.
    pub fn post<H, T>(self, path: &'static str, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::Post, path, routing::post(handler))
    }

    /// `POST path` answered by `handler`, taking bodies up to `max_body` bytes (uploads,
    /// batches) instead of the default limit.
    pub fn post_up_to<H, T>(self, path: &'static str, handler: H, max_body: usize) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let route = routing::post(handler).layer(DefaultBodyLimit::max(max_body));
        self.add(Method::Post, path, route)
    }

    /// `PUT path` answered by `handler`.
    pub fn put<H, T>(self, path: &'static str, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::Put, path, routing::put(handler))
    }

    /// `DELETE path` answered by `handler`.
    pub fn delete<H, T>(self, path: &'static str, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::Delete, path, routing::delete(handler))
    }

    /// These routes and `other`'s.
    pub fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    /// What the router serves: each `(method, path)`, paths in axum's syntax (`{id}`).
    pub fn table(&self) -> &BTreeSet<(Method, &'static str)> {
        &self.table
    }

    /// The router.
    pub fn into_router(self) -> Router<AppState> {
        self.router
    }

    // Routes of one path registered one method at a time are merged by axum into one
    // method router; a method registered twice for a path makes it panic at start-up.
    fn add(mut self, method: Method, path: &'static str, route: MethodRouter<AppState>) -> Routes {
        self.router = self.router.route(path, route);
        self.table.insert((method, path));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn ok() -> &'static str {
        "ok"
    }

    #[test]
    fn the_table_holds_every_method_of_every_path_merged_in() {
        let routes = Routes::new()
            .get("/a", ok)
            .post("/a", ok)
            .merge(Routes::new().put("/b/{id}", ok).delete("/b/{id}", ok))
            .post_up_to("/c", ok, 10);
        let table: Vec<(&str, &str)> = routes
            .table()
            .iter()
            .map(|(m, p)| (m.as_str(), *p))
            .collect();
        assert_eq!(
            table,
            [
                ("GET", "/a"),
                ("POST", "/a"),
                ("POST", "/c"),
                ("PUT", "/b/{id}"),
                ("DELETE", "/b/{id}")
            ]
        );
        let _router: Router<AppState> = routes.into_router();
    }
}
