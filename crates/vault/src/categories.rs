//! The data categories a citizen can entrust, each with its fields and their validation, a
//! sensitivity level, the matching W3C Data Privacy Vocabulary (DPV) personal-data term, and
//! whether it is one record or a series. (What entrusting it pays is the coins crate's policy.)
//!
//! `special` is data Japan's APPI treats as requiring special care (要配慮個人情報), e.g. health.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    Normal,
    Sensitive,
    Special,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cardinality {
    /// At most one record (a birth date, a residence).
    Single,
    /// Any number of records (daily moods, payments).
    Series,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldType {
    /// `YYYY-MM-DD`, a real calendar date between 1900-01-01 and 2100-12-31.
    Date,
    Text {
        max_chars: usize,
    },
    Integer {
        min: i64,
        max: i64,
    },
    Decimal {
        min: f64,
        max: f64,
    },
    Choice {
        options: &'static [&'static str],
    },
    Bool,
    /// Japanese postal code `NNN-NNNN`.
    PostalCodeJp,
    /// A list of short texts (hobbies, preferences).
    TextList {
        max_items: usize,
        max_chars: usize,
    },
    /// Household members: `[{"relation": …, "birth_year": …}]`.
    Members {
        max_items: usize,
        relations: &'static [&'static str],
    },
    /// Exactly four digits: the most of a card number the vault ever holds.
    Last4,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Field {
    pub name: &'static str,
    #[serde(flatten)]
    pub kind: FieldType,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<&'static str>,
}

const fn req(name: &'static str, kind: FieldType) -> Field {
    Field {
        name,
        kind,
        required: true,
        unit: None,
    }
}

const fn opt(name: &'static str, kind: FieldType) -> Field {
    Field {
        name,
        kind,
        required: false,
        unit: None,
    }
}

const fn with_unit(field: Field, unit: &'static str) -> Field {
    Field {
        unit: Some(unit),
        ..field
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Category {
    pub name: &'static str,
    pub group: &'static str,
    pub fields: &'static [Field],
    pub sensitivity: Sensitivity,
    /// The W3C DPV personal-data term (https://w3id.org/dpv/pd#…).
    pub dpv: &'static str,
    pub cardinality: Cardinality,
}

const PAYMENT_METHODS: &[&str] = &["card", "qr", "e_money", "cash", "bank_transfer", "other"];
/// The merchant categories of `payment_history` (the predicates and statistics read them too).
pub const MERCHANT_CATEGORIES: &[&str] = &[
    "grocery",
    "restaurant",
    "transport",
    "utilities",
    "health",
    "education",
    "entertainment",
    "travel",
    "clothing",
    "electronics",
    "other",
];
const CURRENCIES: &[&str] = &["JPY", "USD", "EUR"];
const RELATIONS: &[&str] = &[
    "spouse",
    "child",
    "parent",
    "sibling",
    "grandparent",
    "grandchild",
    "other",
];

pub static CATEGORIES: &[Category] = &[
    // Attributes.
    Category {
        name: "birth_date",
        group: "attributes",
        fields: &[req("date", FieldType::Date)],
        sensitivity: Sensitivity::Sensitive,
        dpv: "pd:DateOfBirth",
        cardinality: Cardinality::Single,
    },
    Category {
        name: "residence",
        group: "attributes",
        fields: &[
            req("prefecture", FieldType::Text { max_chars: 20 }),
            req("city", FieldType::Text { max_chars: 60 }),
            req("postal_code", FieldType::PostalCodeJp),
        ],
        sensitivity: Sensitivity::Sensitive,
        dpv: "pd:PhysicalAddress",
        cardinality: Cardinality::Single,
    },
    Category {
        name: "family_structure",
        group: "attributes",
        fields: &[
            req("household_size", FieldType::Integer { min: 1, max: 30 }),
            opt(
                "members",
                FieldType::Members {
                    max_items: 29,
                    relations: RELATIONS,
                },
            ),
        ],
        sensitivity: Sensitivity::Sensitive,
        dpv: "pd:FamilyStructure",
        cardinality: Cardinality::Single,
    },
    // Personal data.
    Category {
        name: "hobbies",
        group: "personal",
        fields: &[req(
            "items",
            FieldType::TextList {
                max_items: 30,
                max_chars: 60,
            },
        )],
        sensitivity: Sensitivity::Normal,
        dpv: "pd:Hobby",
        cardinality: Cardinality::Single,
    },
    Category {
        name: "preferences",
        group: "personal",
        fields: &[req(
            "items",
            FieldType::TextList {
                max_items: 30,
                max_chars: 60,
            },
        )],
        sensitivity: Sensitivity::Normal,
        dpv: "pd:Preference",
        cardinality: Cardinality::Single,
    },
    Category {
        name: "daily_mood",
        group: "personal",
        fields: &[
            req("date", FieldType::Date),
            req("score", FieldType::Integer { min: 1, max: 5 }),
            opt("note", FieldType::Text { max_chars: 500 }),
        ],
        sensitivity: Sensitivity::Sensitive,
        dpv: "pd:Mood",
        cardinality: Cardinality::Series,
    },
    Category {
        name: "physical_condition",
        group: "personal",
        fields: &[
            req("date", FieldType::Date),
            with_unit(opt("sleep_hours", FieldType::Decimal { min: 0.0, max: 24.0 }), "h"),
            with_unit(opt("steps", FieldType::Integer { min: 0, max: 200_000 }), "steps"),
            with_unit(opt("weight_kg", FieldType::Decimal { min: 1.0, max: 400.0 }), "kg"),
            with_unit(opt("body_temp_c", FieldType::Decimal { min: 30.0, max: 45.0 }), "°C"),
        ],
        sensitivity: Sensitivity::Special,
        dpv: "pd:PhysicalHealth",
        cardinality: Cardinality::Series,
    },
    Category {
        name: "payment_history",
        group: "financial",
        fields: &[
            req("date", FieldType::Date),
            req("merchant", FieldType::Text { max_chars: 100 }),
            req(
                "amount",
                FieldType::Integer {
                    min: 0,
                    max: 100_000_000,
                },
            ),
            req("currency", FieldType::Choice { options: CURRENCIES }),
            req(
                "method",
                FieldType::Choice {
                    options: PAYMENT_METHODS,
                },
            ),
            req(
                "merchant_category",
                FieldType::Choice {
                    options: MERCHANT_CATEGORIES,
                },
            ),
        ],
        sensitivity: Sensitivity::Sensitive,
        dpv: "pd:PaymentRecord",
        cardinality: Cardinality::Series,
    },
    // Registrable facts of the kind credit-scoring services collect.
    Category {
        name: "education",
        group: "registrable",
        fields: &[
            req(
                "level",
                FieldType::Choice {
                    options: &[
                        "high_school",
                        "vocational",
                        "junior_college",
                        "bachelor",
                        "master",
                        "doctorate",
                        "other",
                    ],
                },
            ),
            opt("institution", FieldType::Text { max_chars: 100 }),
            opt("graduation_year", FieldType::Integer { min: 1930, max: 2100 }),
        ],
        sensitivity: Sensitivity::Normal,
        dpv: "pd:EducationQualification",
        cardinality: Cardinality::Series,
    },
    Category {
        name: "employment",
        group: "registrable",
        fields: &[
            req("employer", FieldType::Text { max_chars: 100 }),
            opt("title", FieldType::Text { max_chars: 100 }),
            opt("work_address", FieldType::Text { max_chars: 200 }),
            with_unit(opt("years", FieldType::Integer { min: 0, max: 70 }), "years"),
        ],
        sensitivity: Sensitivity::Sensitive,
        dpv: "pd:EmploymentHistory",
        cardinality: Cardinality::Series,
    },
    Category {
        name: "drivers_license",
        group: "registrable",
        fields: &[
            req(
                "class",
                FieldType::Choice {
                    options: &["ordinary", "semi_medium", "medium", "large", "motorcycle", "other"],
                },
            ),
            req("expires_on", FieldType::Date),
            req("verified", FieldType::Bool),
        ],
        sensitivity: Sensitivity::Sensitive,
        dpv: "pd:OfficialID",
        cardinality: Cardinality::Single,
    },
    Category {
        name: "vehicle",
        group: "registrable",
        fields: &[
            req("make", FieldType::Text { max_chars: 60 }),
            opt("model", FieldType::Text { max_chars: 60 }),
            opt("year", FieldType::Integer { min: 1950, max: 2100 }),
        ],
        sensitivity: Sensitivity::Normal,
        dpv: "pd:Vehicle",
        cardinality: Cardinality::Series,
    },
    Category {
        name: "real_estate",
        group: "registrable",
        fields: &[
            req(
                "kind",
                FieldType::Choice {
                    options: &["house", "apartment", "land", "other"],
                },
            ),
            req(
                "ownership",
                FieldType::Choice {
                    options: &["owned", "mortgaged", "rented"],
                },
            ),
            opt("prefecture", FieldType::Text { max_chars: 20 }),
        ],
        sensitivity: Sensitivity::Sensitive,
        dpv: "pd:Ownership",
        cardinality: Cardinality::Series,
    },
    Category {
        name: "insurance",
        group: "registrable",
        fields: &[
            req(
                "kind",
                FieldType::Choice {
                    options: &["life", "medical", "auto", "fire", "other"],
                },
            ),
            opt("insurer", FieldType::Text { max_chars: 100 }),
            with_unit(
                opt(
                    "monthly_premium",
                    FieldType::Integer {
                        min: 0,
                        max: 10_000_000,
                    },
                ),
                "JPY",
            ),
            // Optional: `holds_valid` treats a policy without it as not expiring.
            opt("expires_on", FieldType::Date),
        ],
        sensitivity: Sensitivity::Sensitive,
        dpv: "pd:Insurance",
        cardinality: Cardinality::Series,
    },
    Category {
        name: "credit_card",
        group: "registrable",
        fields: &[
            req("issuer", FieldType::Text { max_chars: 100 }),
            req(
                "brand",
                FieldType::Choice {
                    options: &["visa", "mastercard", "jcb", "amex", "diners", "other"],
                },
            ),
            req("last4", FieldType::Last4),
        ],
        sensitivity: Sensitivity::Sensitive,
        dpv: "pd:CreditCardNumber",
        cardinality: Cardinality::Series,
    },
    Category {
        name: "identity_document",
        group: "registrable",
        fields: &[
            req(
                "type",
                FieldType::Choice {
                    options: &[
                        "my_number_card",
                        "passport",
                        "residence_card",
                        "health_insurance_card",
                        "other",
                    ],
                },
            ),
            req("masked_number", FieldType::Text { max_chars: 30 }),
            req("verified", FieldType::Bool),
            opt("expires_on", FieldType::Date),
        ],
        sensitivity: Sensitivity::Sensitive,
        dpv: "pd:OfficialID",
        cardinality: Cardinality::Series,
    },
];

pub fn category(name: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.name == name)
}
