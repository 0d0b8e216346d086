//! A resource whose unsupported methods answer 405 problem+json instead of actix's bare default.

use actix_web::{Resource, web};

pub fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(crate::error::method_not_allowed))
}
