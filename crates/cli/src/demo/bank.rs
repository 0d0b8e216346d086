//! The demo's partner companies and their offers: a retailer, an insurer and a research
//! institute (approved, each with its certification), and one more company still waiting for
//! vetting; offers of every kind (records, predicates, statistics) across several purposes, and
//! one still waiting for the ethics review. All of them made up.

use chrono::NaiveDate;
use infobank_consent::companies::Application;
use infobank_consent::corporate_number::with_check_digit;
use infobank_consent::offers::{Ask, Proposal};
use infobank_consent::predicates::Predicate;
use infobank_consent::statistics::catalogue::StatisticsSpec;
use serde_json::json;

pub struct DemoCompany {
    pub application: Application,
    /// Approved by the operator (the last one stays in the queue).
    pub approved: bool,
    pub offers: Vec<DemoOffer>,
}

pub struct DemoOffer {
    pub proposal: Proposal,
    /// Approved in the ethics review (one offer stays in the queue).
    pub approved: bool,
    /// Out of 100 citizens, how many accept it.
    pub uptake: u64,
}

fn application(name: &str, number: u64, domain: &str, kind: &str, cert: &str, today: NaiveDate) -> Application {
    Application {
        legal_name: name.to_owned(),
        corporate_number: with_check_digit(number),
        contact_email: format!("privacy@{domain}"),
        privacy_policy_url: format!("https://{domain}/privacy"),
        certification_kind: kind.to_owned(),
        certification_id: cert.to_owned(),
        certification_expires_on: today + chrono::Duration::days(700),
    }
}

struct Terms {
    purpose: &'static str,
    data_range_days: i32,
    per_day: i32,
    retention_days: i32,
    consent_days: i32,
    reward: i64,
}

fn offer(title: &str, description: &str, categories: &[&str], ask: Ask, terms: Terms) -> Proposal {
    Proposal {
        title: title.to_owned(),
        description: description.to_owned(),
        purpose: terms.purpose.to_owned(),
        categories: categories.iter().map(|c| (*c).to_owned()).collect(),
        ask,
        data_range_days: terms.data_range_days,
        access: "periodic".to_owned(),
        max_fetches_per_day: terms.per_day,
        retention_days: terms.retention_days,
        consent_days: terms.consent_days,
        reward_coins: terms.reward,
    }
}

fn predicate(name: &str, params: serde_json::Value) -> Predicate {
    Predicate {
        name: name.to_owned(),
        params: serde_json::from_value(params).unwrap_or_default(),
    }
}

pub fn companies(today: NaiveDate) -> Vec<DemoCompany> {
    vec![
        DemoCompany {
            application: application(
                "みなと商事株式会社",
                301_000_000_001,
                "minato-shoji.example",
                "PMARK",
                "P-20261201",
                today,
            ),
            approved: true,
            offers: vec![
                DemoOffer {
                    proposal: offer(
                        "お買い物履歴に合わせたクーポン",
                        "3か月分のお支払い履歴と趣味・好みから、毎週お得なクーポンをお届けします。データは販促にのみ使い、第三者には渡しません。",
                        &["payment_history", "hobbies", "preferences"],
                        Ask::Records,
                        Terms {
                            purpose: "personalised_offers",
                            data_range_days: 90,
                            per_day: 1,
                            retention_days: 180,
                            consent_days: 180,
                            reward: 50,
                        },
                    ),
                    approved: true,
                    uptake: 55,
                },
                DemoOffer {
                    proposal: offer(
                        "近くの店舗のご案内（はい／いいえだけ）",
                        "東京都にお住まいか、直近30日に食料品へ2万円以上お使いかだけを伺います。記録そのものはお預かりの銀行から出ません。",
                        &[],
                        Ask::Predicates {
                            predicates: vec![
                                predicate("resides_in", json!({"prefecture": "東京都"})),
                                predicate(
                                    "spend_at_least",
                                    json!({"merchant_category": "grocery", "amount": 20000, "days": 30}),
                                ),
                            ],
                        },
                        Terms {
                            purpose: "personalised_offers",
                            data_range_days: 30,
                            per_day: 1,
                            retention_days: 30,
                            consent_days: 30,
                            reward: 10,
                        },
                    ),
                    approved: true,
                    uptake: 45,
                },
                DemoOffer {
                    proposal: offer(
                        "新商品モニター",
                        "好みに合わせて新商品の試供品をお送りし、ご感想を伺います。",
                        &["preferences"],
                        Ask::Records,
                        Terms {
                            purpose: "product_development",
                            data_range_days: 30,
                            per_day: 1,
                            retention_days: 90,
                            consent_days: 90,
                            reward: 20,
                        },
                    ),
                    approved: false,
                    uptake: 0,
                },
            ],
        },
        DemoCompany {
            application: application(
                "さくら生命保険株式会社",
                301_000_000_002,
                "sakura-life.example",
                "ISMS",
                "IS 700123",
                today,
            ),
            approved: true,
            offers: vec![
                DemoOffer {
                    proposal: offer(
                        "健康増進型保険のお見積り",
                        "生年月日と30日分の体調（睡眠・歩数・体重）から、健康増進型保険の保険料をお見積りします。",
                        &["birth_date", "physical_condition"],
                        Ask::Records,
                        Terms {
                            purpose: "insurance_underwriting",
                            data_range_days: 30,
                            per_day: 1,
                            retention_days: 365,
                            consent_days: 365,
                            reward: 80,
                        },
                    ),
                    approved: true,
                    uptake: 30,
                },
                DemoOffer {
                    proposal: offer(
                        "自動車保険の加入条件の確認（はい／いいえだけ）",
                        "20歳以上か、有効な運転免許をお持ちかだけを伺います。",
                        &[],
                        Ask::Predicates {
                            predicates: vec![
                                predicate("age_at_least", json!({"years": 20})),
                                predicate("holds_valid", json!({"category": "drivers_license"})),
                            ],
                        },
                        Terms {
                            purpose: "insurance_underwriting",
                            data_range_days: 1,
                            per_day: 1,
                            retention_days: 90,
                            consent_days: 120,
                            reward: 5,
                        },
                    ),
                    approved: true,
                    uptake: 35,
                },
            ],
        },
        DemoCompany {
            application: application(
                "一般財団法人 東都生活研究所",
                301_000_000_003,
                "toto-research.example",
                "ISMS",
                "IS 700456",
                today,
            ),
            approved: true,
            offers: vec![
                DemoOffer {
                    proposal: offer(
                        "地域別の暮らしと気分の統計",
                        "都道府県ごとの人数・気分の平均・歩数の平均だけを集計します。10人未満の区分は公表されません。",
                        &[],
                        Ask::Statistics {
                            statistics: StatisticsSpec {
                                dimensions: vec!["prefecture".into()],
                                measures: vec!["citizens".into(), "mood_mean".into(), "steps_mean".into()],
                            },
                        },
                        Terms {
                            purpose: "research_statistics",
                            data_range_days: 30,
                            per_day: 1,
                            retention_days: 365,
                            consent_days: 365,
                            reward: 0,
                        },
                    ),
                    approved: true,
                    uptake: 65,
                },
                DemoOffer {
                    proposal: offer(
                        "気分と睡眠の研究への協力",
                        "毎日の気分の記録を研究に使い、季節と気分の関係を調べます。結果は論文として公開します。",
                        &["daily_mood"],
                        Ask::Records,
                        Terms {
                            purpose: "service_improvement",
                            data_range_days: 30,
                            per_day: 1,
                            retention_days: 365,
                            consent_days: 120,
                            reward: 40,
                        },
                    ),
                    approved: true,
                    uptake: 25,
                },
            ],
        },
        DemoCompany {
            application: application(
                "ひかり銀行株式会社",
                301_000_000_004,
                "hikari-bank.example",
                "PMARK",
                "P-20261115",
                today,
            ),
            approved: false,
            offers: vec![],
        },
    ]
}
