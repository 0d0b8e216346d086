//! The purposes an offer may state: a fixed list based on the W3C Data Privacy Vocabulary, each
//! with a plain-language label in English and Japanese (the portal shows the label, receipts
//! carry the code and the DPV term).

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Purpose {
    pub code: &'static str,
    /// The DPV purpose (https://w3id.org/dpv#…).
    pub dpv: &'static str,
    pub label_en: &'static str,
    pub label_ja: &'static str,
}

pub const PURPOSES: &[Purpose] = &[
    Purpose {
        code: "personalised_offers",
        dpv: "dpv:PersonalisedAdvertising",
        label_en: "Offers and advertising chosen for you",
        label_ja: "あなたに合わせた特典や広告",
    },
    Purpose {
        code: "service_improvement",
        dpv: "dpv:ServiceOptimisation",
        label_en: "Improving the company's services",
        label_ja: "企業のサービス改善",
    },
    Purpose {
        code: "research_statistics",
        dpv: "dpv:ResearchAndDevelopment",
        label_en: "Research and statistics",
        label_ja: "研究・統計",
    },
    Purpose {
        code: "product_development",
        dpv: "dpv:ProductDevelopment",
        label_en: "Developing new products",
        label_ja: "新商品の開発",
    },
    Purpose {
        code: "credit_assessment",
        dpv: "dpv:CreditChecking",
        label_en: "Assessing credit (e.g. for a loan)",
        label_ja: "与信審査（ローンなど）",
    },
    Purpose {
        code: "insurance_underwriting",
        dpv: "dpv:InsuranceUnderwriting",
        label_en: "Insurance underwriting (pricing a policy)",
        label_ja: "保険の引受審査",
    },
];

pub fn purpose(code: &str) -> Option<&'static Purpose> {
    PURPOSES.iter().find(|p| p.code == code)
}
