//! The one schema, written by hand in portable types (both backends' migrations must match it;
//! the test suite runs every query on both).

diesel::table! {
    accounts (id) {
        id -> Text,
        role -> Text,
        email_index -> Text,
        email_sealed -> Binary,
        display_name_sealed -> Binary,
        password_hash -> Text,
        dek_wrapped -> Binary,
        kek_version -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        email_index -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        account_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(accounts, login_failures, sessions);
