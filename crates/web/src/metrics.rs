//! Prometheus metrics: requests by route pattern and status, and a latency histogram. Labels use
//! the matched route pattern (`/api/v1/me/records/{id}`), never the raw path, so ids never become
//! label values and cardinality stays bounded.

use prometheus::{
    Encoder as _, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    /// The audit queue, as the last scrape of `/metrics` found it.
    queue_depth: IntGauge,
    queue_oldest_seconds: prometheus::Gauge,
    /// Per batch: how long its oldest leaf waited; and the leaves integrated.
    integration_lag: Histogram,
    integrated: IntCounter,
    /// SQLite's group commit: commits, and the write transactions they carried.
    group_commits: IntGauge,
    group_jobs: IntGauge,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("infobank".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route pattern and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by method and route pattern",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )?;
        let queue_depth = IntGauge::new("audit_queue_depth", "Audit leaves queued, not yet integrated")?;
        let queue_oldest_seconds = prometheus::Gauge::new(
            "audit_queue_oldest_seconds",
            "How long the oldest queued audit leaf has waited",
        )?;
        let integration_lag = Histogram::with_opts(
            HistogramOpts::new(
                "audit_integration_lag_seconds",
                "Per sequencer batch: time from queueing its oldest leaf to its integration",
            )
            .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
        )?;
        let integrated = IntCounter::new("audit_leaves_integrated_total", "Audit leaves integrated by this node")?;
        // Gauges set from the writer's own counters at each scrape (monotonic, like counters).
        let group_commits = IntGauge::new(
            "sqlite_group_commits",
            "SQLite group commits since the start (each one transaction and one fsync)",
        )?;
        let group_jobs = IntGauge::new(
            "sqlite_group_jobs",
            "Write transactions run in SQLite group commits since the start",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(queue_depth.clone()))?;
        registry.register(Box::new(queue_oldest_seconds.clone()))?;
        registry.register(Box::new(integration_lag.clone()))?;
        registry.register(Box::new(integrated.clone()))?;
        registry.register(Box::new(group_commits.clone()))?;
        registry.register(Box::new(group_jobs.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            queue_depth,
            queue_oldest_seconds,
            integration_lag,
            integrated,
            group_commits,
            group_jobs,
        })
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency.with_label_values(&[method, route]).observe(seconds);
    }

    pub fn observe_batch(&self, leaves: u64, lag_seconds: f64) {
        self.integrated.inc_by(leaves);
        self.integration_lag.observe(lag_seconds);
    }

    pub fn set_queue(&self, depth: u64, oldest_seconds: f64) {
        self.queue_depth.set(i64::try_from(depth).unwrap_or(i64::MAX));
        self.queue_oldest_seconds.set(oldest_seconds);
    }

    /// `(commits, jobs)` of SQLite's group-commit writer.
    pub fn set_group_commit(&self, (commits, jobs): (u64, u64)) {
        self.group_commits.set(i64::try_from(commits).unwrap_or(i64::MAX));
        self.group_jobs.set(i64::try_from(jobs).unwrap_or(i64::MAX));
    }

    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf)?;
        String::from_utf8(buf).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}
