#!/usr/bin/env python3
"""The first apply killed mid-way, then resumed (issue 18, docs/performance.md "Issue 18: journal batching").

    python3 Benchmarks/kill_resume.py .build/release/dcapply /tmp/s50k k.db 0.5

Runs `dcapply apply . --yes --state sqlite:DB` in SITE, polls the journal read-only and sends
SIGKILL once FRACTION of the plan's steps are journalled done; prints the journal at the kill
(power changes started without an outcome, and whether the hardware already shows them); runs
apply again (the resume) and prints its journal by action, state and attempts (an attempt 2
means a start was journalled before the kill); then plans and prints whether anything is left.
"""
import subprocess, sys, time, sqlite3, os, signal, json
binary, site, db, frac = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
for suffix in ('', '-wal', '-shm'):
    try: os.remove(os.path.join(site, db + suffix))
    except FileNotFoundError: pass
out = open(os.path.join(site, 'kill-first.out'), 'w')
t0 = time.time()
p = subprocess.Popen([binary, 'apply', '.', '--yes', '--state', 'sqlite:' + db], cwd=site, stdout=out, stderr=subprocess.STDOUT)
path = os.path.join(site, db)
total = None
killed_at = None
while p.poll() is None:
    time.sleep(0.2)
    if not os.path.exists(path): continue
    try:
        c = sqlite3.connect(f'file:{path}?mode=ro', uri=True, timeout=1)
        if total is None:
            row = c.execute("SELECT plan_json FROM apply_journal ORDER BY id DESC LIMIT 1").fetchone()
            if row: total = len(json.loads(row[0])['changes'])
        if total:
            done = c.execute("SELECT count(*) FROM journal_step WHERE state = 'done'").fetchone()[0]
            if done >= frac * total:
                os.kill(p.pid, signal.SIGKILL)
                killed_at = time.time() - t0
        c.close()
    except sqlite3.OperationalError as e:
        pass
p.wait()
print(f'killed: {killed_at is not None} after {killed_at and round(killed_at,1)} s, exit {p.returncode}, plan changes {total}')
c = sqlite3.connect(path)
print('journal at the kill:', dict(c.execute("SELECT state, count(*) FROM journal_step GROUP BY state").fetchall()),
      'power steps started without outcome:', c.execute("SELECT count(*) FROM journal_step WHERE state='started'").fetchone()[0],
      'nodes powered (observed overrides):', c.execute("SELECT count(*) FROM node_observed WHERE power_state IS NOT NULL").fetchone()[0])
started = c.execute("SELECT j.step, j.action, j.resource, o.power_state FROM journal_step j LEFT JOIN node_observed o ON o.node = substr(j.resource, 6) WHERE j.state = 'started'").fetchall()
reached = [r for r in started if (r[1] == 'powerOff' and r[3] == 'off') or (r[1] == 'powerOn' and r[3] == 'on')]
print(f'started without outcome: {len(started)}, of which the hardware already shows done: {len(reached)} (to be journalled without a call), not reached: {len(started) - len(reached)} (to be called, once)')
c.close()
t1 = time.time()
r = subprocess.run(['/usr/bin/time', '-v', binary, 'apply', '.', '--yes', '--state', 'sqlite:' + db], cwd=site, capture_output=True, text=True)
lines = [l for l in (r.stdout + r.stderr).splitlines() if 'Resumed' in l or 'Applied' in l or 'apply incomplete' in l or 'User time' in l or 'took over' in l or 'lock' in l.lower()]
print(f'resume: exit {r.returncode} in {time.time()-t1:.1f} s:', *lines[:8], sep='\n  ')
c = sqlite3.connect(path)
rows = c.execute("SELECT id, status, done, failed, skipped, resumes FROM apply_history").fetchall()
print('history:', rows)
steps = c.execute("SELECT action, state, attempts, count(*) FROM journal_step WHERE apply_id = (SELECT max(id) FROM apply_journal) GROUP BY action, state, attempts").fetchall()
print('journal of the resumed apply (action, state, attempts, count):', steps)
print('journal rows:', c.execute("SELECT count(*), count(DISTINCT step) FROM journal_step").fetchone())
c.close()
r = subprocess.run([binary, 'plan', '.', '--state', 'sqlite:' + db], cwd=site, capture_output=True, text=True)
print('plan afterwards:', [l for l in r.stdout.splitlines() if l.startswith('No changes') or l.startswith('Plan:') or l.startswith('Nothing')])
