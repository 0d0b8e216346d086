//! A resource whose unsupported methods answer 405 problem+json with the `Allow` header RFC 9110
//! requires, instead of actix's bare default. The methods are recorded as the routes are added,
//! so the header cannot drift from the routes.

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::{FromRequest, Handler, Resource, Responder, Route, web};

pub struct Endpoint {
    resource: Resource,
    allowed: Vec<&'static str>,
}

pub fn resource(path: &str) -> Endpoint {
    Endpoint {
        resource: web::resource(path),
        allowed: Vec::new(),
    }
}

macro_rules! method {
    ($name:ident, $method:literal) => {
        pub fn $name<F, Args>(self, handler: F) -> Self
        where
            F: Handler<Args>,
            Args: FromRequest + 'static,
            F::Output: Responder + 'static,
        {
            self.on($method, web::$name().to(handler))
        }
    };
}

impl Endpoint {
    method!(get, "GET");
    method!(post, "POST");
    method!(put, "PUT");
    method!(delete, "DELETE");

    fn on(mut self, method: &'static str, route: Route) -> Self {
        self.resource = self.resource.route(route);
        self.allowed.push(method);
        self
    }

    /// Data for this resource's handlers only (a body limit of its own, say).
    pub fn app_data<U: 'static>(mut self, data: U) -> Self {
        self.resource = self.resource.app_data(data);
        self
    }
}

impl HttpServiceFactory for Endpoint {
    fn register(self, config: &mut AppService) {
        let allow = self.allowed.join(", ");
        self.resource
            .default_service(web::to(move || {
                let allow = allow.clone();
                async move { crate::error::method_not_allowed(&allow) }
            }))
            .register(config);
    }
}
