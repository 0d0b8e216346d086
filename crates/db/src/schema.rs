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

diesel::table! {
    audit_head (id) {
        id -> Integer,
        tree_size -> BigInt,
    }
}

diesel::table! {
    audit_leaves (idx) {
        idx -> BigInt,
        recorded_at -> Timestamp,
        action -> Text,
        actor_role -> Text,
        company_id -> Nullable<Text>,
        leaf -> Text,
        leaf_hash -> Binary,
    }
}

diesel::table! {
    audit_queue (id) {
        id -> BigInt,
        recorded_at -> Timestamp,
        action -> Text,
        actor_role -> Text,
        company_id -> Nullable<Text>,
        leaf -> Text,
        leaf_hash -> Binary,
    }
}

diesel::table! {
    audit_nodes (last_leaf, level) {
        last_leaf -> BigInt,
        level -> Integer,
        hash -> Binary,
    }
}

diesel::table! {
    audit_tree_heads (tree_size) {
        tree_size -> BigInt,
        root_hash -> Binary,
        timestamp_ms -> BigInt,
        signature -> Binary,
        key_id -> Text,
    }
}

diesel::table! {
    regulator_checkpoints (account_id) {
        account_id -> Text,
        tree_size -> BigInt,
        root_hash -> Binary,
        acknowledged_at -> Timestamp,
    }
}

diesel::table! {
    vault_records (id) {
        id -> Text,
        citizen_id -> Text,
        category -> Text,
        version -> Integer,
        sealed -> Binary,
        single_key -> Nullable<Text>,
        dedup_key -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    reward_policies (version) {
        version -> Integer,
        params -> Text,
        published_at -> Timestamp,
    }
}

diesel::table! {
    coin_accounts (id) {
        id -> Text,
        kind -> Text,
        owner_id -> Nullable<Text>,
        balance -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    coin_entries (id) {
        id -> Text,
        idempotency_key -> Text,
        reason -> Text,
        ref_kind -> Text,
        ref_id -> Text,
        policy_version -> Nullable<Integer>,
        inputs -> Text,
        created_at -> Timestamp,
        audit_leaf_hash -> Binary,
        event_leaf_hash -> Nullable<Binary>,
    }
}

diesel::table! {
    coin_postings (entry_id, account_id) {
        entry_id -> Text,
        account_id -> Text,
        amount -> BigInt,
        balance_after -> BigInt,
    }
}

diesel::table! {
    coin_reservations (consent_id) {
        consent_id -> Text,
        company_id -> Text,
        amount -> BigInt,
        status -> Text,
        created_at -> Timestamp,
        settled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    coin_breadth (citizen_id, month, company_id) {
        citizen_id -> Text,
        month -> Text,
        company_id -> Text,
    }
}

diesel::table! {
    companies (id) {
        id -> Text,
        legal_name -> Text,
        corporate_number -> Text,
        contact_email -> Text,
        privacy_policy_url -> Text,
        certification_kind -> Text,
        certification_id -> Text,
        certification_expires_on -> Text,
        status -> Text,
        client_id -> Text,
        secret_hash -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        secret_rotated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    company_decisions (id) {
        id -> Text,
        company_id -> Text,
        from_status -> Text,
        to_status -> Text,
        reason -> Text,
        decided_by -> Text,
        decided_at -> Timestamp,
    }
}

diesel::table! {
    offers (id) {
        id -> Text,
        company_id -> Text,
        title -> Text,
        description -> Text,
        purpose -> Text,
        categories -> Text,
        data_range_days -> Integer,
        access -> Text,
        max_fetches_per_day -> Integer,
        retention_days -> Integer,
        consent_days -> Integer,
        reward_coins -> BigInt,
        status -> Text,
        review_reason -> Nullable<Text>,
        created_at -> Timestamp,
        reviewed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    offer_asks (offer_id) {
        offer_id -> Text,
        kind -> Text,
        spec -> Text,
    }
}

diesel::table! {
    consents (id) {
        id -> Text,
        citizen_id -> Text,
        company_id -> Text,
        offer_id -> Text,
        subject -> Text,
        status -> Text,
        granted_at -> Timestamp,
        expires_at -> Timestamp,
        updated_at -> Timestamp,
        receipt -> Text,
        uses -> BigInt,
        last_used_at -> Nullable<Timestamp>,
        quota_day -> Nullable<Text>,
        quota_used -> Integer,
        live_key -> Nullable<Text>,
    }
}

diesel::table! {
    disclosures (id) {
        id -> Text,
        consent_id -> Text,
        citizen_id -> Text,
        company_id -> Text,
        categories -> Text,
        record_count -> Integer,
        disclosed_at -> Timestamp,
        audit_leaf_hash -> Binary,
        kind -> Text,
        answer_sealed -> Nullable<Binary>,
    }
}

diesel::table! {
    statistics_runs (id) {
        id -> Text,
        offer_id -> Text,
        company_id -> Text,
        ran_at -> Timestamp,
        dimensions -> Text,
        participants -> Integer,
        released_cells -> Integer,
        suppressed_cells -> Integer,
        k -> Integer,
        participants_root -> Binary,
        audit_leaf_hash -> Binary,
    }
}

diesel::table! {
    statistics_participants (run_id, position) {
        run_id -> Text,
        position -> Integer,
        consent_id -> Nullable<Text>,
        citizen_id -> Nullable<Text>,
        subject -> Text,
    }
}

diesel::table! {
    citizen_notices (id) {
        id -> Text,
        citizen_id -> Text,
        consent_id -> Text,
        kind -> Text,
        occasion -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    offer_declines (citizen_id, offer_id) {
        citizen_id -> Text,
        offer_id -> Text,
        declined_at -> Timestamp,
    }
}

diesel::table! {
    disclosure_refusals (company_id, month, reason) {
        company_id -> Text,
        month -> Text,
        reason -> Text,
        refusals -> BigInt,
    }
}

diesel::joinable!(sessions -> accounts (account_id));
diesel::joinable!(vault_records -> accounts (citizen_id));
diesel::joinable!(regulator_checkpoints -> accounts (account_id));
diesel::joinable!(coin_postings -> coin_entries (entry_id));
diesel::joinable!(coin_postings -> coin_accounts (account_id));
diesel::joinable!(coin_entries -> reward_policies (policy_version));
diesel::joinable!(company_decisions -> companies (company_id));
diesel::joinable!(offers -> companies (company_id));
diesel::joinable!(consents -> offers (offer_id));
diesel::joinable!(consents -> companies (company_id));
diesel::joinable!(disclosures -> consents (consent_id));
diesel::joinable!(offer_asks -> offers (offer_id));
diesel::joinable!(statistics_runs -> offers (offer_id));
diesel::joinable!(statistics_participants -> statistics_runs (run_id));
diesel::joinable!(citizen_notices -> consents (consent_id));
diesel::joinable!(offer_declines -> offers (offer_id));
diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    citizen_notices,
    disclosure_refusals,
    offer_declines,
    login_failures,
    sessions,
    audit_head,
    audit_leaves,
    audit_queue,
    audit_nodes,
    audit_tree_heads,
    regulator_checkpoints,
    vault_records,
    reward_policies,
    coin_accounts,
    coin_entries,
    coin_postings,
    coin_reservations,
    coin_breadth,
    companies,
    company_decisions,
    offers,
    offer_asks,
    consents,
    disclosures,
    statistics_runs,
    statistics_participants,
);
