//! One replication of a line under one policy: stations, buffers, failures, maintenance, statistics.
//!
//! Semantics (docs/line-model.md): blocking after service; a station holds one part; failures strike
//! in any state and interrupted work resumes after the repair (preempt-resume); time to failure counts
//! from the end of the last repair or maintenance; planned stops pause every station.

use std::collections::{BTreeMap, VecDeque};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::engine::Calendar;
use crate::error::TwinError;
use crate::kpi::{AlarmKpis, ReplicationKpis, StationKpis};
use crate::line::Line;
use crate::measure::Sensors;
use crate::physics::{FailureMode, SensorProcess, SensorSnapshot, Variant, HIDDEN_BIT};
use crate::policy::{Policy, Predictive};

/// What the random stream of a station (or the line) is used for; one ChaCha8 stream per
/// (seed, replication, station, purpose), so every policy sees the same draws (common random numbers).
#[derive(Clone, Copy)]
#[repr(u64)]
enum Purpose {
    Process = 0,
    Scrap = 1,
    TimeToFailure = 2,
    Repair = 3,
    Sensors = 4,
    Tool = 5,
    Random = 6,
    Maintenance = 7,
    Mix = 8,
    Arrivals = 9,
    /// Measurement noise of the sensors.
    Noise = 10,
    /// Drift signs of the sensors.
    Drift = 11,
    /// The hidden failure cause.
    Hidden = 12,
    /// Whether a predictive alarm is acted on (`recall_scale` < 1).
    Recall = 13,
}

const LINE_STREAM: u64 = 0xFFFF;

pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The random stream for (seed, replication, station, purpose).
pub fn stream(seed: u64, replication: u64, station: u64, purpose: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    let mut x = seed;
    for chunk in key.chunks_mut(8) {
        x = splitmix(x);
        chunk.copy_from_slice(&x.to_le_bytes());
    }
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream((replication << 24) | (station << 8) | purpose);
    rng
}

// Station states for time accounting; the down states are one per failure cause.
const BUSY: usize = 0;
const STARVED: usize = 1;
const BLOCKED: usize = 2;
const PLANNED: usize = 3;
const MAINT: usize = 4;
const DOWN_TIME: usize = 5; // then DOWN_TIME + cause for the other causes
const N_STATES: usize = 12;
const N_CAUSES: usize = 7;
/// Failure causes: calendar-time failures, the AI4I modes, then the cause the sensors do not show.
pub const CAUSES: [&str; N_CAUSES] = ["time", "TWF", "HDF", "PWF", "OSF", "RNF", "HIDDEN"];
/// Index of `HIDDEN` in `CAUSES`.
const HIDDEN_CAUSE: u8 = 6;
/// State names in the order of the accounting indices (Gantt legend).
pub const STATE_NAMES: [&str; N_STATES] = [
    "busy",
    "starved",
    "blocked",
    "planned stop",
    "maintenance",
    "down (time)",
    "down (TWF)",
    "down (HDF)",
    "down (PWF)",
    "down (OSF)",
    "down (RNF)",
    "down (HIDDEN)",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Starved,
    Busy,
    Blocked,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Down {
    Up,
    /// Index into `CAUSES`.
    Failure(u8),
    Maintenance,
}

#[derive(Clone, Copy)]
enum Ev {
    Done(u16, u32),
    Fail(u16, u32),
    RepairEnd(u16),
    MaintEnd(u16),
    PmDue(u16, u32),
    Arrival,
    StopStart(u16),
    StopEnd,
    Warmup,
}

struct StationRt {
    phase: Phase,
    down: Down,
    variant: Variant,
    /// Processing time left on the held part.
    remaining: f64,
    end: f64,
    /// A processing-done event is pending.
    running: bool,
    /// The held part has not started yet (sensors not drawn, policy not consulted).
    fresh: bool,
    /// Failure modes the held part will fail with (AI4I bits).
    flags: u8,
    proc_token: u32,
    fail_token: u32,
    pm_token: u32,
    pm_due: bool,
    skip_score: bool,
    /// When a shadow model first raised an alarm since the last repair or maintenance.
    first_alarm: Option<f64>,
    wear: f64,
    life: f64,
    tool_broken: bool,
    /// Parts machined since the last maintenance or hidden-cause repair (the hidden degradation).
    hidden_parts: u64,
    sensors: Option<SensorProcess>,
    /// Noise and drift between the true state and what the model sees.
    meter: Option<Sensors>,
    rng_process: ChaCha8Rng,
    rng_scrap: ChaCha8Rng,
    rng_ttf: ChaCha8Rng,
    rng_repair: ChaCha8Rng,
    rng_sensors: ChaCha8Rng,
    rng_tool: ChaCha8Rng,
    rng_random: ChaCha8Rng,
    rng_maint: ChaCha8Rng,
    rng_hidden: ChaCha8Rng,
    rng_recall: ChaCha8Rng,
    state: usize,
    since: f64,
    acc: [f64; N_STATES],
    failures: [u64; N_CAUSES],
    maint_actions: u64,
    parts: u64,
}

impl StationRt {
    /// A station at time 0: idle, a new tool, its random streams from `rng(purpose)`.
    fn new(m: &crate::line::StationModel, rng: impl Fn(Purpose) -> ChaCha8Rng) -> StationRt {
        let mut rng_sensors = rng(Purpose::Sensors);
        let mut rng_tool = rng(Purpose::Tool);
        let (sensors, life) = match &m.ai4i {
            Some(a) => (
                Some(SensorProcess::new(&mut rng_sensors)),
                rng_tool.random_range(a.life_min..=a.life_max),
            ),
            None => (None, f64::INFINITY),
        };
        let meter = m.ai4i.as_ref().and_then(|a| a.sensors);
        StationRt {
            phase: Phase::Starved,
            down: Down::Up,
            variant: Variant::L,
            remaining: 0.0,
            end: 0.0,
            running: false,
            fresh: false,
            flags: 0,
            proc_token: 0,
            fail_token: 0,
            pm_token: 0,
            pm_due: false,
            skip_score: false,
            first_alarm: None,
            wear: 0.0,
            life,
            tool_broken: false,
            hidden_parts: 0,
            sensors,
            meter: meter.map(|x| Sensors::new(x, rng(Purpose::Noise), rng(Purpose::Drift))),
            rng_process: rng(Purpose::Process),
            rng_scrap: rng(Purpose::Scrap),
            rng_ttf: rng(Purpose::TimeToFailure),
            rng_repair: rng(Purpose::Repair),
            rng_sensors,
            rng_tool,
            rng_random: rng(Purpose::Random),
            rng_maint: rng(Purpose::Maintenance),
            rng_hidden: rng(Purpose::Hidden),
            rng_recall: rng(Purpose::Recall),
            state: STARVED,
            since: 0.0,
            acc: [0.0; N_STATES],
            failures: [0; N_CAUSES],
            maint_actions: 0,
            parts: 0,
        }
    }
}

/// The cause (index into `CAUSES`) a part failing with `flags` is repaired for: the first AI4I mode,
/// else the hidden cause.
fn cause_of(flags: u8) -> Option<u8> {
    FailureMode::first(flags)
        .map(|m| 1 + m as u8)
        .or((flags & HIDDEN_BIT != 0).then_some(HIDDEN_CAUSE))
}

/// One state interval of one station (for the Gantt chart).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Segment {
    pub station: u16,
    pub state: u8,
    pub start: f64,
    pub end: f64,
}

/// Everything one replication returns.
pub struct ReplicationOutput {
    pub kpis: ReplicationKpis,
    /// Good parts finished per time bin over the whole horizon.
    pub series: Vec<u32>,
    pub gantt: Vec<Segment>,
}

/// Options of one replication.
#[derive(Debug, Clone, Copy)]
pub struct RepSpec {
    pub seed: u64,
    pub replication: u64,
    pub horizon: f64,
    pub warmup: f64,
    pub bins: usize,
    /// Record state segments that start before this time (0: none).
    pub gantt_until: f64,
}

/// Cap on recorded Gantt segments, to keep result.json small on long horizons.
const GANTT_MAX: usize = 20_000;

pub struct Sim<'a> {
    line: &'a Line,
    policy: &'a Policy,
    cal: Calendar<Ev>,
    st: Vec<StationRt>,
    buf: Vec<VecDeque<Variant>>,
    queue: VecDeque<(f64, Variant)>,
    rng_mix: ChaCha8Rng,
    rng_arrivals: ChaCha8Rng,
    paused: u32,
    paused_since: f64,
    planned_total: f64,
    warmup: f64,
    window_start: f64,
    good: u64,
    scrapped: u64,
    wip: u64,
    wip_area: f64,
    wip_since: f64,
    queue_area: f64,
    queue_since: f64,
    queue_wait_sum: f64,
    queue_served: u64,
    bins: Vec<u32>,
    bin_width: f64,
    gantt: Vec<Segment>,
    gantt_until: f64,
    error: Option<TwinError>,
    snapshot: [SensorSnapshot; 1],
    /// The predictive model's realised exam over the measured window.
    exam: AlarmKpis,
}

impl<'a> Sim<'a> {
    pub fn new(line: &'a Line, policy: &'a Policy, spec: &RepSpec) -> Sim<'a> {
        let s = |i: usize, p: Purpose| stream(spec.seed, spec.replication, i as u64, p as u64);
        let st = line
            .stations
            .iter()
            .enumerate()
            .map(|(i, m)| StationRt::new(m, |p| s(i, p)))
            .collect();
        let bins = spec.bins.max(1);
        Sim {
            line,
            policy,
            cal: Calendar::with_capacity(8 * line.stations.len() + 16),
            st,
            buf: line
                .buffers
                .iter()
                .map(|&c| VecDeque::with_capacity(c))
                .collect(),
            queue: VecDeque::with_capacity(64),
            rng_mix: stream(
                spec.seed,
                spec.replication,
                LINE_STREAM,
                Purpose::Mix as u64,
            ),
            rng_arrivals: stream(
                spec.seed,
                spec.replication,
                LINE_STREAM,
                Purpose::Arrivals as u64,
            ),
            paused: 0,
            paused_since: 0.0,
            planned_total: 0.0,
            warmup: spec.warmup,
            window_start: 0.0,
            good: 0,
            scrapped: 0,
            wip: 0,
            wip_area: 0.0,
            wip_since: 0.0,
            queue_area: 0.0,
            queue_since: 0.0,
            queue_wait_sum: 0.0,
            queue_served: 0,
            bins: vec![0; bins],
            bin_width: spec.horizon / bins as f64,
            gantt: Vec::new(),
            gantt_until: spec.gantt_until,
            error: None,
            snapshot: [SensorSnapshot {
                product_type: Variant::L,
                air_temperature_k: 0.0,
                process_temperature_k: 0.0,
                rotational_speed_rpm: 0.0,
                torque_nm: 0.0,
                tool_wear_min: 0.0,
            }],
            exam: AlarmKpis::default(),
        }
    }

    /// Runs to `horizon` and returns the statistics of [warmup, horizon].
    pub fn run(mut self, horizon: f64) -> Result<ReplicationOutput, TwinError> {
        for i in 0..self.st.len() {
            self.schedule_failure(i);
            self.schedule_pm(i);
        }
        for (k, p) in self.line.planned_stops.iter().enumerate() {
            self.cal.at(p.start, Ev::StopStart(k as u16));
        }
        if let Some(a) = &self.line.arrivals {
            let t = a.sample(&mut self.rng_arrivals);
            self.cal.at(t, Ev::Arrival);
        }
        if self.warmup > 0.0 {
            self.cal.at(self.warmup, Ev::Warmup);
        }
        for i in 0..self.st.len() {
            self.try_pull(i);
        }
        while let Some(t) = self.cal.peek_time() {
            if t >= horizon || self.error.is_some() {
                break;
            }
            let (_, ev) = self.cal.pop().expect("peeked");
            self.handle(ev);
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.cal.advance_to(horizon);
        Ok(self.finish(horizon))
    }

    #[inline]
    fn now(&self) -> f64 {
        self.cal.now()
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Done(i, token) => {
                let i = i as usize;
                if self.st[i].proc_token == token && self.st[i].running {
                    self.finish_part(i);
                }
            }
            Ev::Fail(i, token) => {
                let i = i as usize;
                if self.st[i].fail_token == token && self.st[i].down == Down::Up {
                    self.fail(i, 0);
                }
            }
            Ev::RepairEnd(i) | Ev::MaintEnd(i) => {
                self.back_up(i as usize, matches!(ev, Ev::MaintEnd(_)));
            }
            Ev::PmDue(i, token) => {
                let i = i as usize;
                if self.st[i].pm_token == token && self.st[i].down == Down::Up {
                    if self.st[i].phase == Phase::Busy && !self.halted(i) {
                        self.st[i].pm_due = true;
                    } else {
                        self.begin_maintenance(i);
                    }
                }
            }
            Ev::Arrival => {
                let now = self.now();
                let v = self.draw_variant();
                self.queue_change(now);
                self.queue.push_back((now, v));
                self.wip_change(now, 1);
                let a = self
                    .line
                    .arrivals
                    .as_ref()
                    .expect("arrival events need arrivals");
                let next = a.sample(&mut self.rng_arrivals);
                self.cal.after(next, Ev::Arrival);
                self.try_pull(0);
            }
            Ev::StopStart(k) => {
                let p = self.line.planned_stops[k as usize];
                self.cal.after(p.duration, Ev::StopEnd);
                self.cal.after(p.every, Ev::StopStart(k));
                if self.paused == 0 {
                    self.paused_since = self.now();
                    self.paused = 1;
                    for i in 0..self.st.len() {
                        if self.st[i].down == Down::Up {
                            self.halt_work(i);
                        }
                        self.touch(i);
                    }
                } else {
                    self.paused += 1;
                }
            }
            Ev::StopEnd => {
                self.paused -= 1;
                if self.paused == 0 {
                    let now = self.now();
                    self.planned_total += now - self.paused_since.max(self.window_start);
                    for i in 0..self.st.len() {
                        self.touch(i);
                    }
                    for i in (0..self.st.len()).rev() {
                        self.wake(i);
                    }
                }
            }
            Ev::Warmup => self.reset_statistics(),
        }
    }

    #[inline]
    fn halted(&self, i: usize) -> bool {
        self.st[i].down != Down::Up || self.paused > 0
    }

    fn draw_variant(&mut self) -> Variant {
        let u: f64 = self.rng_mix.random();
        self.line.variant_of(u)
    }

    fn wip_change(&mut self, now: f64, delta: i64) {
        self.wip_area += self.wip as f64 * (now - self.wip_since);
        self.wip_since = now;
        self.wip = (self.wip as i64 + delta) as u64;
    }

    fn queue_change(&mut self, now: f64) {
        self.queue_area += self.queue.len() as f64 * (now - self.queue_since);
        self.queue_since = now;
    }

    /// Re-derives the station's accounting state and closes the previous interval if it changed.
    fn touch(&mut self, i: usize) {
        let now = self.now();
        let paused = self.paused > 0;
        let s = &mut self.st[i];
        let new = match s.down {
            Down::Failure(c) => DOWN_TIME + c as usize,
            Down::Maintenance => MAINT,
            Down::Up if paused => PLANNED,
            Down::Up => match s.phase {
                Phase::Busy => BUSY,
                Phase::Starved => STARVED,
                Phase::Blocked => BLOCKED,
            },
        };
        if new != s.state {
            if s.since < self.gantt_until && self.gantt.len() < GANTT_MAX && now > s.since {
                self.gantt.push(Segment {
                    station: i as u16,
                    state: s.state as u8,
                    start: s.since,
                    end: now,
                });
            }
            s.acc[s.state] += now - s.since;
            s.state = new;
            s.since = now;
        }
    }

    /// Takes a part if the station is up, idle and one is available.
    fn try_pull(&mut self, i: usize) {
        if self.halted(i) || self.st[i].phase != Phase::Starved {
            return;
        }
        let now = self.now();
        let variant = if i == 0 {
            if self.line.arrivals.is_some() {
                self.queue_change(now);
                match self.queue.pop_front() {
                    Some((t, v)) => {
                        if t >= self.window_start {
                            self.queue_wait_sum += now - t;
                            self.queue_served += 1;
                        }
                        v
                    }
                    None => return,
                }
            } else {
                self.wip_change(now, 1);
                self.draw_variant()
            }
        } else {
            match self.buf[i - 1].pop_front() {
                Some(v) => v,
                None => return,
            }
        };
        self.start_part(i, variant);
        if i > 0 && self.st[i - 1].phase == Phase::Blocked && !self.halted(i - 1) {
            self.try_push(i - 1);
        }
    }

    fn start_part(&mut self, i: usize, variant: Variant) {
        let s = &mut self.st[i];
        s.phase = Phase::Busy;
        s.variant = variant;
        s.remaining = self.line.stations[i].process.sample(&mut s.rng_process);
        s.fresh = true;
        s.flags = 0;
        self.resume(i);
    }

    /// Starts or continues processing the held part; a fresh part first meets the policy and the
    /// AI4I physics.
    fn resume(&mut self, i: usize) {
        if self.st[i].running || self.halted(i) {
            return;
        }
        if self.st[i].fresh {
            if self.maintenance_before_part(i) {
                self.begin_maintenance(i);
                return;
            }
            self.st[i].fresh = false;
        }
        let now = self.now();
        let s = &mut self.st[i];
        s.end = now + s.remaining;
        s.running = true;
        s.proc_token = s.proc_token.wrapping_add(1);
        let token = s.proc_token;
        self.cal.at(s.end, Ev::Done(i as u16, token));
        self.touch(i);
    }

    /// Decides whether the station is maintained before the held part; otherwise draws the part's
    /// sensors and failure modes.
    fn maintenance_before_part(&mut self, i: usize) -> bool {
        let policy = self.policy;
        let model = &self.line.stations[i];
        let s = &mut self.st[i];
        if s.pm_due {
            return true;
        }
        let Some(ai) = &model.ai4i else { return false };
        if let Some(limit) = policy.wear_limit {
            if s.wear >= limit {
                return true;
            }
        }
        // End of tool life: the tool breaks on this part (TWF) or is swapped between parts.
        if s.wear >= s.life && !s.tool_broken {
            if s.rng_tool.random::<f64>() < ai.tool_failure_share {
                s.tool_broken = true;
            } else {
                s.wear = 0.0;
                s.life = s.rng_tool.random_range(ai.life_min..=ai.life_max);
            }
        }
        let sensors = s.sensors.as_mut().expect("AI4I stations have sensors");
        let truth = sensors.next(&mut s.rng_sensors, s.variant, s.wear);
        let flags = self.failure_flags(i, &truth);
        if self.predictive_alarm(i, &truth, flags != 0) {
            self.st[i].skip_score = true;
            return true;
        }
        let s = &mut self.st[i];
        s.skip_score = false;
        s.flags = flags;
        false
    }

    /// What the part fails with, by the rules on its true state: the deterministic modes, a broken
    /// tool (TWF), the random failure (RNF) and the hidden cause.
    fn failure_flags(&mut self, i: usize, truth: &SensorSnapshot) -> u8 {
        let line = self.line;
        let ai = line.stations[i].ai4i.as_ref().expect("an AI4I station");
        let s = &mut self.st[i];
        let mut flags = ai
            .rules
            .deterministic_flags(truth, s.variant.default_overstrain_limit());
        if s.tool_broken {
            flags |= FailureMode::Twf.bit();
        }
        if s.rng_random.random::<f64>() < ai.random_failure {
            flags |= FailureMode::Rnf.bit();
        }
        if let Some(h) = &ai.hidden {
            if h.fails(&mut s.rng_hidden, s.hidden_parts) {
                flags |= HIDDEN_BIT;
            }
        }
        flags
    }

    /// Scores what the sensors measure of `truth`; whether an alarm is raised and acted on (then the
    /// station is maintained instead of machining the part). A shadow model is scored the same way and
    /// never acted on. Counts the model's exam: `fails` says whether the part would fail.
    fn predictive_alarm(&mut self, i: usize, truth: &SensorSnapshot, fails: bool) -> bool {
        let policy = self.policy;
        let Some(p) = policy.scored() else {
            return false;
        };
        if self.st[i].skip_score {
            return false;
        }
        let now = self.now();
        // Measured readings arrive at the resolution the historian records (and `twin emit` writes) them.
        self.snapshot[0] = match self.st[i].meter.as_mut() {
            Some(m) => crate::emit::rounded(&m.measure(truth, now)),
            None => *truth,
        };
        let Some(score) = self.score(p) else {
            return false;
        };
        let raised = score >= p.threshold;
        if policy.predictive.is_none() {
            let s = &mut self.st[i];
            if raised && s.first_alarm.is_none() {
                s.first_alarm = Some(now);
            }
            self.exam.count(raised, fails);
            return false;
        }
        // The recall draw has its own stream, so other streams stay common to every policy.
        let acted = raised
            && (p.recall_scale >= 1.0 || self.st[i].rng_recall.random::<f64>() < p.recall_scale);
        self.exam.count(acted, fails);
        acted
    }

    /// The model's failure probability for `self.snapshot`; `None` once it failed (the run stops).
    fn score(&mut self, p: &Predictive) -> Option<f64> {
        match p.scorer.score(&self.snapshot) {
            Ok(scores) if scores.len() == 1 && (0.0..=1.0).contains(&scores[0]) => Some(scores[0]),
            Ok(scores) => {
                self.error = Some(TwinError::ScoreInvalid {
                    model: p.scorer.describe(),
                    scores,
                });
                None
            }
            Err(source) => {
                self.error = Some(TwinError::ScoreFailed {
                    model: p.scorer.describe(),
                    source,
                });
                None
            }
        }
    }

    fn finish_part(&mut self, i: usize) {
        let now = self.now();
        let model = &self.line.stations[i];
        let s = &mut self.st[i];
        s.running = false;
        s.parts += 1;
        if let Some(ai) = &model.ai4i {
            s.wear += ai.wear_for(s.variant);
            s.hidden_parts += 1;
        }
        let scrap = s.rng_scrap.random::<f64>() < model.scrap;
        if let Some(cause) = cause_of(s.flags) {
            // The process failed: the part is lost and the station goes down.
            s.phase = Phase::Starved;
            self.scrapped += 1;
            self.wip_change(now, -1);
            self.fail(i, cause);
            return;
        }
        if scrap {
            s.phase = Phase::Starved;
            self.scrapped += 1;
            self.wip_change(now, -1);
            self.touch(i);
            self.try_pull(i);
        } else {
            s.phase = Phase::Blocked;
            self.touch(i);
            self.try_push(i);
        }
    }

    /// Hands the finished part on if there is room downstream.
    fn try_push(&mut self, i: usize) {
        if self.halted(i) || self.st[i].phase != Phase::Blocked {
            return;
        }
        let now = self.now();
        let last = self.st.len() - 1;
        if i == last {
            self.good += 1;
            self.wip_change(now, -1);
            let bin = ((now / self.bin_width) as usize).min(self.bins.len() - 1);
            self.bins[bin] += 1;
            self.st[i].phase = Phase::Starved;
            self.touch(i);
            self.try_pull(i);
            return;
        }
        if self.buf[i].len() >= self.line.buffers[i] {
            return;
        }
        let v = self.st[i].variant;
        self.buf[i].push_back(v);
        self.st[i].phase = Phase::Starved;
        self.touch(i);
        if self.st[i + 1].phase == Phase::Starved {
            self.try_pull(i + 1);
        }
        self.try_pull(i);
    }

    /// Stops the clock of the part in process (preempt-resume).
    fn halt_work(&mut self, i: usize) {
        let now = self.now();
        let s = &mut self.st[i];
        if s.running {
            s.remaining = (s.end - now).max(0.0);
            s.running = false;
            s.proc_token = s.proc_token.wrapping_add(1);
        }
    }

    /// Takes the station down for failure cause `cause` (index into CAUSES).
    fn fail(&mut self, i: usize, cause: u8) {
        self.halt_work(i);
        let now = self.now();
        let model = &self.line.stations[i];
        let s = &mut self.st[i];
        if let Some(first) = s.first_alarm.take() {
            self.exam.warned_failures += 1;
            self.exam.lead_time_total += now - first;
        }
        s.down = Down::Failure(cause);
        s.fail_token = s.fail_token.wrapping_add(1);
        s.pm_token = s.pm_token.wrapping_add(1);
        s.pm_due = false;
        s.failures[cause as usize] += 1;
        let repair = if cause == 0 {
            model.repair.as_ref().expect("time failures have a repair")
        } else {
            let ai = model
                .ai4i
                .as_ref()
                .expect("AI4I failures need AI4I physics");
            if cause == HIDDEN_CAUSE {
                // The repair renews what wore out unseen.
                s.hidden_parts = 0;
                &ai.hidden
                    .as_ref()
                    .expect("hidden failures need a hidden cause")
                    .repair
            } else {
                let mode = FailureMode::ALL[cause as usize - 1];
                if matches!(mode, FailureMode::Twf | FailureMode::Osf) {
                    s.wear = 0.0;
                    s.tool_broken = false;
                    s.life = s.rng_tool.random_range(ai.life_min..=ai.life_max);
                }
                ai.repair_for(mode)
            }
        };
        let d = repair.sample(&mut s.rng_repair);
        self.cal.after(d, Ev::RepairEnd(i as u16));
        self.touch(i);
    }

    fn begin_maintenance(&mut self, i: usize) {
        self.halt_work(i);
        let model = &self.line.stations[i];
        let s = &mut self.st[i];
        s.down = Down::Maintenance;
        s.first_alarm = None;
        s.fail_token = s.fail_token.wrapping_add(1);
        s.pm_token = s.pm_token.wrapping_add(1);
        s.pm_due = false;
        s.maint_actions += 1;
        let d = model
            .maintenance
            .as_ref()
            .expect("policy validation requires a maintenance duration")
            .sample(&mut s.rng_maint);
        if let Some(ai) = &model.ai4i {
            s.wear = 0.0;
            s.tool_broken = false;
            s.hidden_parts = 0;
            s.life = s.rng_tool.random_range(ai.life_min..=ai.life_max);
        }
        self.cal.after(d, Ev::MaintEnd(i as u16));
        self.touch(i);
    }

    /// End of a repair or maintenance: the station is as good as new and its clocks restart.
    fn back_up(&mut self, i: usize, _maintenance: bool) {
        self.st[i].down = Down::Up;
        self.schedule_failure(i);
        self.schedule_pm(i);
        self.touch(i);
        self.wake(i);
    }

    /// Lets an up, unpaused station carry on with whatever it was doing.
    fn wake(&mut self, i: usize) {
        if self.halted(i) {
            return;
        }
        match self.st[i].phase {
            Phase::Busy => self.resume(i),
            Phase::Starved => self.try_pull(i),
            Phase::Blocked => self.try_push(i),
        }
    }

    fn schedule_failure(&mut self, i: usize) {
        if let Some(ttf) = &self.line.stations[i].time_to_failure {
            let s = &mut self.st[i];
            s.fail_token = s.fail_token.wrapping_add(1);
            let d = ttf.sample(&mut s.rng_ttf);
            let token = s.fail_token;
            self.cal.after(d, Ev::Fail(i as u16, token));
        }
    }

    fn schedule_pm(&mut self, i: usize) {
        if let (Some(interval), true) = (self.policy.interval, self.line.stations[i].can_fail()) {
            let s = &mut self.st[i];
            s.pm_token = s.pm_token.wrapping_add(1);
            let token = s.pm_token;
            self.cal.after(interval, Ev::PmDue(i as u16, token));
        }
    }

    fn reset_statistics(&mut self) {
        let now = self.now();
        for i in 0..self.st.len() {
            let s = &mut self.st[i];
            if s.since < self.gantt_until && self.gantt.len() < GANTT_MAX && now > s.since {
                self.gantt.push(Segment {
                    station: i as u16,
                    state: s.state as u8,
                    start: s.since,
                    end: now,
                });
            }
            s.since = now;
            s.acc = [0.0; N_STATES];
            s.failures = [0; N_CAUSES];
            s.maint_actions = 0;
            s.parts = 0;
        }
        self.window_start = now;
        self.good = 0;
        self.scrapped = 0;
        self.wip_area = 0.0;
        self.wip_since = now;
        self.queue_area = 0.0;
        self.queue_since = now;
        self.queue_wait_sum = 0.0;
        self.queue_served = 0;
        self.planned_total = 0.0;
        self.exam = AlarmKpis::default();
        if self.paused > 0 {
            self.paused_since = now;
        }
    }

    fn finish(mut self, horizon: f64) -> ReplicationOutput {
        let now = horizon;
        for i in 0..self.st.len() {
            let s = &mut self.st[i];
            if s.since < self.gantt_until && self.gantt.len() < GANTT_MAX && now > s.since {
                self.gantt.push(Segment {
                    station: i as u16,
                    state: s.state as u8,
                    start: s.since,
                    end: now,
                });
            }
            s.acc[s.state] += now - s.since;
            s.since = now;
        }
        if self.paused > 0 {
            self.planned_total += now - self.paused_since.max(self.window_start);
        }
        self.wip_change(now, 0);
        self.queue_change(now);
        let window = horizon - self.window_start;
        let line = self.line;
        let costs = line.file.costs;
        let planned_time = (window - self.planned_total).max(0.0);
        let mut failures_by_mode = BTreeMap::new();
        let mut downtime_by_cause = BTreeMap::new();
        for (c, name) in CAUSES.iter().enumerate() {
            failures_by_mode.insert(
                name.to_string(),
                self.st.iter().map(|s| s.failures[c]).sum(),
            );
            downtime_by_cause.insert(
                name.to_string(),
                self.st.iter().map(|s| s.acc[DOWN_TIME + c]).sum(),
            );
        }
        let failures: u64 = failures_by_mode.values().sum();
        let unplanned: f64 = downtime_by_cause.values().sum();
        let maintenance_time: f64 = self.st.iter().map(|s| s.acc[MAINT]).sum();
        let operating: f64 = self
            .st
            .iter()
            .map(|s| s.acc[BUSY] + s.acc[STARVED] + s.acc[BLOCKED])
            .sum();
        let maintenance_actions: u64 = self.st.iter().map(|s| s.maint_actions).sum();
        let availability = self
            .st
            .iter()
            .map(|s| {
                let op = s.acc[BUSY] + s.acc[STARVED] + s.acc[BLOCKED];
                let scheduled =
                    op + s.acc[MAINT] + (DOWN_TIME..N_STATES).map(|k| s.acc[k]).sum::<f64>();
                if scheduled > 0.0 {
                    op / scheduled
                } else {
                    1.0
                }
            })
            .sum::<f64>()
            / self.st.len() as f64;
        let finished = self.good + self.scrapped;
        let quality = if finished > 0 {
            self.good as f64 / finished as f64
        } else {
            1.0
        };
        let oee = if planned_time > 0.0 {
            self.good as f64 * line.ideal_cycle_time() / planned_time
        } else {
            0.0
        };
        let performance = if availability * quality > 0.0 {
            oee / (availability * quality)
        } else {
            0.0
        };
        let hours = |units: f64| units / line.time_unit().units_per_hour();
        let total_cost = costs.operating_per_hour * hours(planned_time)
            + costs.downtime_per_hour * hours(unplanned)
            + costs.corrective_repair * failures as f64
            + costs.preventive_maintenance * maintenance_actions as f64
            + costs.scrap * self.scrapped as f64;
        let stations = self
            .st
            .iter()
            .zip(&line.stations)
            .map(|(s, m)| StationKpis {
                name: m.name.clone(),
                busy: s.acc[BUSY] / window,
                starved: s.acc[STARVED] / window,
                blocked: s.acc[BLOCKED] / window,
                down: (DOWN_TIME..N_STATES).map(|k| s.acc[k]).sum::<f64>() / window,
                maintenance: s.acc[MAINT] / window,
                planned_stop: s.acc[PLANNED] / window,
                failures: s.failures.iter().sum(),
                maintenance_actions: s.maint_actions,
                parts: s.parts,
            })
            .collect();
        let has_queue = line.arrivals.is_some();
        let kpis = ReplicationKpis {
            throughput: self.good as f64 / window,
            oee,
            availability,
            performance,
            quality,
            scrap_rate: 1.0 - quality,
            cost_per_good_part: total_cost / self.good.max(1) as f64,
            total_cost,
            revenue: costs.part_value * self.good as f64,
            good_parts: self.good,
            scrapped_parts: self.scrapped,
            unplanned_downtime: unplanned,
            maintenance_time,
            planned_stop_time: self.planned_total,
            planned_time,
            mtbf: (failures > 0).then(|| operating / failures as f64),
            mttr: (failures > 0).then(|| unplanned / failures as f64),
            failures,
            maintenance_actions,
            wip: self.wip_area / window,
            queue_length: has_queue.then(|| self.queue_area / window),
            queue_wait: (has_queue && self.queue_served > 0)
                .then(|| self.queue_wait_sum / self.queue_served as f64),
            failures_by_mode,
            downtime_by_cause,
            stations,
            events: self.cal.events(),
            alarms: self.policy.scored().map(|_| AlarmKpis {
                shadow: self.policy.predictive.is_none(),
                ..self.exam
            }),
        };
        ReplicationOutput {
            kpis,
            series: self.bins,
            gantt: self.gantt,
        }
    }
}
