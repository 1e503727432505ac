"""The MQTT benchmark (benches/mqtt/run.sh): a mosquitto on a free loopback port, a fast Rust publisher
(QoS 1, 10 readings per message), and

  (a) the rate the broker delivers to a bare `mosquitto_sub -q 1 -t 'bench/#' -C N > /dev/null`,
  (b) the rate `millwright connect` sustains storing the same N messages (until its `committed` events say
      N*10 readings; then the table is counted: exactly N*10 rows, N*10 distinct (time, source, signal)),
  (c) publish -> queryable latency at a steady rate below the maximum: `millwright sql` polls COUNT(*)
      back to back; message j is queryable at the end of the first poll that counts it (messages arrive and
      commit in order), so each latency is an upper bound that includes one poll's duration.

Usage: measure.py BIN PUBLISHER MESSAGES RUNS RATE SECONDS WORK [CONNECT_ARGS...]
"""

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker(work):
    port = free_port()
    conf = os.path.join(work, "mosquitto.conf")
    with open(conf, "w") as f:
        # Unlimited in-flight and queue: the connector holds a commit's worth unacknowledged.
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                "max_inflight_messages 0\nmax_queued_messages 0\n")
    broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", conf],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return broker, port
        except OSError:
            time.sleep(0.02)
    sys.exit("mosquitto did not start")


def publish(publisher, port, n, rate=None, times_file=None):
    args = [publisher, str(port), str(n)]
    if rate:
        args += [str(rate), times_file]
    return subprocess.Popen(args, stdout=subprocess.PIPE)


def bare_subscriber(publisher, port, n):
    sub = subprocess.Popen(["mosquitto_sub", "-p", str(port), "-q", "1", "-t", "bench/#",
                            "-C", str(n), "-i", "bench-sub"], stdout=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # subscribed (mosquitto_sub prints nothing when it is)
        t0 = time.monotonic()
        pub = publish(publisher, port, n)
        sub.wait(timeout=600)
        t1 = time.monotonic()
        pub.communicate()
        return n / (t1 - t0)
    finally:
        sub.kill()


def start_connector(bin_, home, port, extra):
    con = subprocess.Popen([bin_, "--home", home, "--json", "connect", f"mqtt://127.0.0.1:{port}",
                            "--topics", "bench/#", "--dataset", "bench", *extra],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in con.stderr:
        if '"subscribed"' in line:
            return con
    con.kill()
    sys.exit("the connector never subscribed")


def sql(bin_, home, query):
    out = subprocess.run([bin_, "--home", home, "--json", "sql", query], capture_output=True,
                         text=True)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)


def stop(con):
    con.send_signal(signal.SIGTERM)
    out, _ = con.communicate()
    return json.loads(out)


def millwright_rate(bin_, publisher, port, n, work, extra):
    home = os.path.join(work, "home")
    shutil.rmtree(home, ignore_errors=True)
    con = start_connector(bin_, home, port, extra)
    t0 = time.monotonic()
    pub = publish(publisher, port, n)
    commits = 0
    for line in con.stderr:
        if '"committed"' in line:
            commits += 1
            if json.loads(line)["total_readings"] >= n * 10:
                break
    t1 = time.monotonic()
    pub.communicate()
    result = stop(con)
    rows = sql(bin_, home, "SELECT COUNT(*) AS n FROM bench")[0]["n"]
    distinct = sql(bin_, home, "SELECT COUNT(*) AS n FROM "
                   "(SELECT DISTINCT time, source, signal FROM bench)")[0]["n"]
    assert rows == n * 10 and distinct == n * 10, (rows, distinct, result)
    return n / (t1 - t0), commits


def latency(bin_, publisher, port, rate, seconds, work, extra):
    home = os.path.join(work, "home")
    shutil.rmtree(home, ignore_errors=True)
    con = start_connector(bin_, home, port, extra)
    n = int(rate * seconds)
    times_file = os.path.join(work, "publish_times.txt")
    pub = publish(publisher, port, n, rate, times_file)
    polls = []  # (end of poll, µs since the epoch; messages counted; poll seconds)
    while True:
        start = time.monotonic()
        rows = sql(bin_, home, "SELECT COUNT(*) AS n FROM bench")
        end_us = time.time_ns() // 1000
        polls.append((end_us, (rows[0]["n"] if rows else 0) // 10, time.monotonic() - start))
        if polls[-1][1] >= n:
            break
    pub.communicate()
    stop(con)
    with open(times_file) as f:
        published = [int(x) for x in f]
    lat, j = [], 0
    for end_us, count, _ in polls:
        while j < count:
            lat.append((end_us - published[j]) / 1e6)
            j += 1
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    return {"messages": n, "rate": rate, "p50_s": q(0.50), "p99_s": q(0.99), "max_s": lat[-1],
            "poll_median_s": statistics.median(p[2] for p in polls), "polls": len(polls)}


def main():
    bin_, publisher, n, runs, rate, seconds, work, *extra = sys.argv[1:]
    n, runs, rate, seconds = int(n), int(runs), float(rate), float(seconds)
    os.makedirs(work, exist_ok=True)

    def fresh_broker(measure):
        # A broker of its own per measurement: the connector's persistent session would otherwise make
        # the broker queue every later run's messages for it.
        broker, port = start_broker(work)
        try:
            return measure(port)
        finally:
            broker.terminate()
            broker.wait()

    bare, mill = [], []
    for run in range(runs):
        # Alternate which goes first, so neither always follows the other.
        order = ["bare", "millwright"] if run % 2 == 0 else ["millwright", "bare"]
        for what in order:
            subprocess.run(["sync"])
            if what == "bare":
                bare.append(fresh_broker(lambda port: bare_subscriber(publisher, port, n)))
            else:
                mill.append(fresh_broker(
                    lambda port: millwright_rate(bin_, publisher, port, n, work, extra)))
            print(f"run {run + 1} {what}: {bare[-1] if what == 'bare' else mill[-1][0]:,.0f} msg/s",
                  flush=True)
    lat = fresh_broker(lambda port: latency(bin_, publisher, port, rate, seconds, work, extra))
    b = statistics.median(bare)
    m = statistics.median(r for r, _ in mill)
    print(json.dumps({
        "messages_per_run": n, "runs": runs, "connect_args": extra,
        "bare_subscriber_msg_s": round(b), "millwright_msg_s": round(m),
        "millwright_readings_s": round(m * 10), "ratio": round(m / b, 3),
        "commits_per_run": [c for _, c in mill],
        "bare_runs": [round(x) for x in bare], "millwright_runs": [round(r) for r, _ in mill],
        "latency": lat,
    }, indent=1))


main()
