//! Sealing and opening a 1 KiB record through our envelope code, next to bare ring AES-256-GCM
//! calls in the same run (docs/performance.md). The bare calls reuse one prepared key and a
//! counter nonce: the fastest ring allows, so the ratio is an upper bound on our overhead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use infobank_crypto::DataKey;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

fn envelope(c: &mut Criterion) {
    let record = vec![0x5au8; 1024];
    let aad =
        b"infobank-record|01a21251-006c-75c8-a4a7-a671d68a4814|01a21251-006c-75c8-a4a7-a671d68a4815|payment_history|v1";
    let mut group = c.benchmark_group("envelope_1KiB");
    group.throughput(Throughput::Bytes(record.len() as u64));

    let bare = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap());
    let mut counter = 0u64;
    group.bench_function("ring_seal", |b| {
        b.iter(|| {
            counter += 1;
            let mut nonce = [0u8; 12];
            nonce[4..].copy_from_slice(&counter.to_be_bytes());
            let mut in_out = record.clone();
            bare.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(&aad[..]), &mut in_out)
                .unwrap();
            black_box(in_out)
        })
    });
    let mut sealed_bare = record.clone();
    bare.seal_in_place_append_tag(
        Nonce::assume_unique_for_key([1u8; 12]),
        Aad::from(&aad[..]),
        &mut sealed_bare,
    )
    .unwrap();
    group.bench_function("ring_open", |b| {
        b.iter(|| {
            let mut in_out = sealed_bare.clone();
            let plain = bare
                .open_in_place(
                    Nonce::assume_unique_for_key([1u8; 12]),
                    Aad::from(&aad[..]),
                    &mut in_out,
                )
                .unwrap();
            black_box(plain.len())
        })
    });

    let dek = DataKey::generate().unwrap();
    group.bench_function("envelope_seal", |b| {
        b.iter(|| black_box(dek.seal(aad, &record).unwrap()))
    });
    let sealed = dek.seal(aad, &record).unwrap();
    group.bench_function("envelope_open", |b| {
        b.iter(|| black_box(dek.open(aad, &sealed).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, envelope);
criterion_main!(benches);
