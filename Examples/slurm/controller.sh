#!/usr/bin/env bash
# A throw-away Slurm 22.05 controller for this example (no systemd, no munge, no slurmd):
#   ./controller.sh start [NODES]   write .slurm/slurm.conf beside this script, start slurmctld
#   ./controller.sh stop            stop it by its pid and remove .slurm/
# NODES is a Slurm hostlist (default: the eight nodes of inventory.yaml). Clients then use
#   export SLURM_CONF=$PWD/.slurm/slurm.conf   (site.yaml's actuator names the same file).
# Needs the Debian packages slurmctld and slurm-client (scripts/install-deps); slurmctld runs
# as the calling user (SlurmUser) with AuthType=auth/none, so no munge daemon is needed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
D=${SLURM_FIXTURE_DIR:-$here/.slurm}

start() {
  local nodes=${1:-gpu-r0[1-2]-n0[1-4]}
  if [ -s "$D/slurmctld.fixture.pid" ] && kill -0 "$(cat "$D/slurmctld.fixture.pid")" 2>/dev/null; then
    echo "controller.sh: already running (pid $(cat "$D/slurmctld.fixture.pid")); stop it first" >&2; exit 1
  fi
  rm -rf "$D"; mkdir -p "$D/state"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))
  cat > "$D/slurm.conf" <<CONF
ClusterName=example
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$(id -un)
SlurmdUser=$(id -un)
AuthType=auth/none
CredType=cred/none
StateSaveLocation=$D/state
SlurmctldPidFile=$D/slurmctld.pid
SlurmctldLogFile=$D/slurmctld.log
SlurmctldDebug=info
SlurmdSpoolDir=$D/spool-%n
SlurmdTimeout=0
SlurmdParameters=config_overrides
ReturnToService=1
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SchedulerType=sched/builtin
MpiDefault=none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$nodes NodeAddr=127.0.0.1 CPUs=8 RealMemory=64000 Features=gpu State=UNKNOWN
PartitionName=batch Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$D/slurm.conf
  setsid slurmctld -D -f "$SLURM_CONF" >"$D/slurmctld.out" 2>&1 </dev/null &
  echo $! > "$D/slurmctld.fixture.pid"
  local i
  for i in $(seq 1 100); do
    scontrol ping 2>/dev/null | grep -q 'is UP' && break
    kill -0 "$(cat "$D/slurmctld.fixture.pid")" 2>/dev/null || { cat "$D/slurmctld.out" >&2; exit 1; }
    sleep 0.1
  done
  scontrol ping | grep -q 'is UP' || { echo "controller.sh: slurmctld did not come up; see $D/slurmctld.log" >&2; exit 1; }
  # Without slurmd the nodes start UNKNOWN, where RESUME misbehaves: DOWN then RESUME gives idle*.
  scontrol update NodeName=ALL State=DOWN Reason="example: no slurmd"
  scontrol update NodeName=ALL State=RESUME
  echo "slurmctld is up on port $port (pid $(cat "$D/slurmctld.fixture.pid")); export SLURM_CONF=$D/slurm.conf"
}

stop() {
  [ -s "$D/slurmctld.fixture.pid" ] || { echo "controller.sh: not running" >&2; return 0; }
  local pid; pid=$(cat "$D/slurmctld.fixture.pid")
  kill "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  rm -rf "$D"
  echo "slurmctld stopped"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  *) echo "usage: $0 start [NODES] | stop" >&2; exit 2 ;;
esac
