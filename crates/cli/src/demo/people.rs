//! The demo's citizens: Japanese names, places, households, habits, and the records they entrust,
//! drawn from small tables with the demo's generator. Every name, merchant and address here is
//! made up (the postal codes are real codes of the wards named).

use chrono::{Datelike as _, Duration, NaiveDate};
use serde_json::{Value, json};

use super::rng::Rng;

/// (family name, its romaji).
const FAMILY_NAMES: &[(&str, &str)] = &[
    ("佐藤", "sato"),
    ("鈴木", "suzuki"),
    ("高橋", "takahashi"),
    ("田中", "tanaka"),
    ("伊藤", "ito"),
    ("渡辺", "watanabe"),
    ("山本", "yamamoto"),
    ("中村", "nakamura"),
    ("小林", "kobayashi"),
    ("加藤", "kato"),
    ("吉田", "yoshida"),
    ("山田", "yamada"),
    ("佐々木", "sasaki"),
    ("松本", "matsumoto"),
    ("井上", "inoue"),
    ("木村", "kimura"),
    ("林", "hayashi"),
    ("清水", "shimizu"),
];

const GIVEN_NAMES: &[(&str, &str)] = &[
    ("花子", "hanako"),
    ("陽菜", "hina"),
    ("結衣", "yui"),
    ("美咲", "misaki"),
    ("さくら", "sakura"),
    ("葵", "aoi"),
    ("恵子", "keiko"),
    ("由美", "yumi"),
    ("太郎", "taro"),
    ("翔太", "shota"),
    ("大輔", "daisuke"),
    ("健太", "kenta"),
    ("蓮", "ren"),
    ("拓也", "takuya"),
    ("誠", "makoto"),
    ("浩", "hiroshi"),
];

/// (prefecture, city or ward, postal code). Tokyo is listed more often: more people live there.
const PLACES: &[(&str, &str, &str)] = &[
    ("東京都", "新宿区", "1600022"),
    ("東京都", "世田谷区", "1540017"),
    ("東京都", "江東区", "1350016"),
    ("東京都", "練馬区", "1760001"),
    ("神奈川県", "横浜市港北区", "2220033"),
    ("神奈川県", "川崎市中原区", "2110004"),
    ("大阪府", "大阪市北区", "5300001"),
    ("愛知県", "名古屋市中区", "4600008"),
    ("埼玉県", "さいたま市浦和区", "3300063"),
    ("千葉県", "千葉市美浜区", "2610011"),
    ("福岡県", "福岡市中央区", "8100001"),
    ("北海道", "札幌市中央区", "0600001"),
];

const HOBBIES: &[&str] = &[
    "読書",
    "料理",
    "ランニング",
    "登山",
    "写真",
    "釣り",
    "映画鑑賞",
    "旅行",
    "ガーデニング",
    "ヨガ",
    "音楽",
    "書道",
    "サイクリング",
    "キャンプ",
];

const PREFERENCES: &[&str] = &[
    "和食",
    "有機野菜",
    "コーヒー",
    "日本茶",
    "アウトドア用品",
    "家電",
    "ファッション",
    "健康食品",
    "本",
    "スイーツ",
];

/// (merchant category, merchants, typical amount in yen, purchases per month).
const SPENDING: &[(&str, &[&str], i64, i64)] = &[
    ("grocery", &["みなとマート", "さくらストア", "あおば生鮮館"], 2800, 10),
    ("restaurant", &["定食のひだまり", "喫茶こもれび", "らーめん凪"], 1200, 5),
    ("transport", &["みなと交通", "ひかり鉄道"], 600, 6),
    ("utilities", &["あおぞら電力", "まちのガス"], 7500, 2),
    ("health", &["すこやか薬局", "ひまわりドラッグ"], 1800, 2),
    ("clothing", &["ころもや", "ベーシック衣料"], 4800, 1),
    ("entertainment", &["シネマみなと", "ブックカフェ栞"], 2000, 1),
    ("electronics", &["でんきのミナト"], 12000, 0),
];

const METHODS: &[&str] = &["card", "qr", "e_money", "cash"];

/// A citizen of the demo: who she is, and what she entrusts once (her attributes and habits).
pub struct Person {
    pub display_name: String,
    /// The local part of her email address (unique by `index`).
    pub email_local: String,
    pub birth_date: NaiveDate,
    pub place: (&'static str, &'static str, &'static str),
    pub household: Value,
    pub hobbies: Vec<&'static str>,
    pub preferences: Vec<&'static str>,
    pub drives: bool,
    pub insured: bool,
    /// How she feels on an ordinary day (1 to 5), and how much she walks.
    mood_base: i64,
    steps_base: i64,
    weight_kg: f64,
}

impl Person {
    pub fn new(rng: &mut Rng, index: usize, today: NaiveDate) -> Self {
        let (family, family_romaji) = *rng.pick(FAMILY_NAMES);
        let (given, given_romaji) = *rng.pick(GIVEN_NAMES);
        let age = rng.between(19, 78);
        let birth_date = NaiveDate::from_ymd_opt(
            today.year() - i32::try_from(age).unwrap_or(40),
            u32::try_from(rng.between(1, 12)).unwrap_or(1),
            u32::try_from(rng.between(1, 28)).unwrap_or(1),
        )
        .unwrap_or(today);
        let household = household(rng, birth_date.year());
        let mut hobbies: Vec<&str> = (0..rng.between(1, 3)).map(|_| *rng.pick(HOBBIES)).collect();
        hobbies.sort_unstable();
        hobbies.dedup();
        let mut preferences: Vec<&str> = (0..rng.between(1, 3)).map(|_| *rng.pick(PREFERENCES)).collect();
        preferences.sort_unstable();
        preferences.dedup();
        Self {
            display_name: format!("{family} {given}"),
            email_local: format!("{given_romaji}.{family_romaji}.{:03}", index + 1),
            birth_date,
            place: *rng.pick(PLACES),
            household,
            hobbies,
            preferences,
            drives: rng.chance(60),
            insured: rng.chance(45),
            mood_base: rng.between(2, 4),
            steps_base: rng.between(3000, 11000),
            weight_kg: f64::from(i32::try_from(rng.between(450, 850)).unwrap_or(600)) / 10.0,
        }
    }

    /// What she entrusts when she joins: (category, data).
    pub fn attributes(&self, rng: &mut Rng, today: NaiveDate) -> Vec<(&'static str, Value)> {
        let (prefecture, city, postal_code) = self.place;
        let mut records = vec![
            ("birth_date", json!({"date": self.birth_date.to_string()})),
            (
                "residence",
                json!({"prefecture": prefecture, "city": city, "postal_code": postal_code}),
            ),
            ("family_structure", self.household.clone()),
            ("hobbies", json!({"items": self.hobbies})),
            ("preferences", json!({"items": self.preferences})),
        ];
        if self.drives {
            // Most licences are valid; a few ran out last year.
            let years = if rng.chance(90) { rng.between(1, 4) } else { -1 };
            let expires = today + Duration::days(365 * years + rng.between(0, 300));
            records.push((
                "drivers_license",
                json!({"class": "ordinary", "expires_on": expires.to_string(), "verified": true}),
            ));
        }
        if self.insured {
            records.push((
                "insurance",
                json!({
                    "kind": if rng.chance(50) { "medical" } else { "life" },
                    "insurer": "さくら生命保険",
                    "monthly_premium": rng.between(20, 120) * 100,
                    "expires_on": (today + Duration::days(rng.between(200, 3000))).to_string(),
                }),
            ));
        }
        records
    }

    /// Her mood on `day`.
    pub fn mood(&self, rng: &mut Rng, day: NaiveDate) -> Value {
        let score = (self.mood_base + rng.between(-1, 1)).clamp(1, 5);
        json!({"date": day.to_string(), "score": score})
    }

    /// Her physical condition on `day` (special-care data).
    pub fn condition(&self, rng: &mut Rng, day: NaiveDate) -> Value {
        json!({
            "date": day.to_string(),
            "sleep_hours": f64::from(i32::try_from(rng.between(55, 85)).unwrap_or(70)) / 10.0,
            "steps": (self.steps_base + rng.between(-2500, 2500)).max(0),
            "weight_kg": self.weight_kg,
        })
    }

    /// Her payments from `from` to `to` (both included), as the JSON array the import takes.
    pub fn payments(&self, rng: &mut Rng, from: NaiveDate, to: NaiveDate) -> Value {
        let days = (to - from).num_days().max(0);
        let mut rows = Vec::new();
        for &(category, merchants, typical, per_month) in SPENDING {
            let count = (per_month * (days + 1) / 30 + rng.between(-1, 1)).max(0);
            for _ in 0..count {
                let day = from + Duration::days(rng.between(0, days));
                rows.push(json!({
                    "date": day.to_string(),
                    "merchant": rng.pick(merchants),
                    "amount": (typical * rng.between(50, 160) / 100).max(100),
                    "currency": "JPY",
                    "method": rng.pick(METHODS),
                    "merchant_category": category,
                }));
            }
        }
        Value::Array(rows)
    }
}

/// A household: alone, a couple, or a family with children and sometimes a parent.
fn household(rng: &mut Rng, born: i32) -> Value {
    let mut members = Vec::new();
    if rng.chance(70) {
        members
            .push(json!({"relation": "spouse", "birth_year": born + i32::try_from(rng.between(-4, 4)).unwrap_or(0)}));
        for _ in 0..rng.between(0, 3) {
            let year = (born + i32::try_from(rng.between(24, 38)).unwrap_or(30)).min(2025);
            members.push(json!({"relation": "child", "birth_year": year}));
        }
    }
    if rng.chance(12) {
        members
            .push(json!({"relation": "parent", "birth_year": born - i32::try_from(rng.between(24, 34)).unwrap_or(28)}));
    }
    json!({"household_size": members.len() + 1, "members": members})
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record the demo entrusts passes the vault's own validation.
    #[test]
    fn every_generated_record_is_valid() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default();
        let mut rng = Rng::new(11);
        for i in 0..50 {
            let person = Person::new(&mut rng, i, today);
            let mut records = person.attributes(&mut rng, today);
            records.push(("daily_mood", person.mood(&mut rng, today)));
            records.push(("physical_condition", person.condition(&mut rng, today)));
            for (name, data) in records {
                let category = infobank_vault::categories::category(name).expect("a known category");
                if let Err(errors) = infobank_vault::validate::validate(category, &data) {
                    panic!("{name} {data}: {errors:?}");
                }
            }
            let payments = person.payments(&mut rng, today - Duration::days(29), today);
            let category = infobank_vault::categories::category("payment_history").expect("known");
            for row in payments.as_array().expect("an array") {
                assert!(infobank_vault::validate::validate(category, row).is_ok(), "{row}");
            }
        }
    }
}
