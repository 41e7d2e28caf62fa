#!/usr/bin/env bash
# Runs the shipped Slurm recipe (deploy/slurm/sweep.sbatch) on a single-node Slurm started
# here on localhost: a locally generated munge key, state under a temporary folder,
# proctrack/linuxproc and task/none. Submits the job array, waits with a bound, merges,
# and compares the result byte for byte with a local sweep; then deletes one task's
# cells, resubmits only that task as README says, and compares again. Stops the daemons
# it started. Needs root and Debian's slurmctld, slurmd, slurm-client and munge.
# Usage: tests/slurm.sh [path/to/hbsim]   (default: target/release/hbsim)
set -euo pipefail
cd "$(dirname "$0")/.."
HBSIM=$(realpath "${1:-target/release/hbsim}")
SCENARIO=scenarios/tune-mobile.json
SHARDS=4
WAIT=600

tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap stop EXIT

host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
mkdir -p "$tmp"/{state,spool,log,munge,run,work}
# munge: a key of our own, its own socket.
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$tmp/munge/munge.key"
chmod 700 "$tmp/munge"
sock="$tmp/munge/munge.socket"
munged --force --key-file="$tmp/munge/munge.key" --socket="$sock" \
  --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/log/munged.log" --seed-file="$tmp/munge/seed"
pids+=("$(cat "$tmp/munge/munged.pid")")

cat > "$tmp/slurm.conf" <<CONF
ClusterName=hbsim-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$tmp/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
sleep 1
pids+=("$(cat "$tmp/run/slurmctld.pid")" "$(cat "$tmp/run/slurmd.pid")")

# Wait for the node.
for _ in $(seq 1 60); do
  state=$(sinfo -h -o %T 2>/dev/null | head -1 || true)
  case "$state" in idle*|mix*|alloc*) break ;; esac
  sleep 1
done
echo "slurm: node $host is ${state:-unknown}"
case "$state" in idle*|mix*|alloc*) ;; *) echo "slurm: the node did not come up" >&2; tail -20 "$tmp"/log/*.log >&2; exit 1 ;; esac

# The local reference.
"$HBSIM" sweep "$SCENARIO" --out "$tmp/local" --quiet

wait_for() {
  local job=$1
  for _ in $(seq 1 "$WAIT"); do
    if [ -z "$(squeue -h -j "$job" 2>/dev/null)" ]; then return 0; fi
    sleep 1
  done
  echo "slurm: job $job did not finish within $WAIT s" >&2
  scancel "$job" || true
  return 1
}

compare() {
  "$HBSIM" sweep merge "$tmp/work/cells" --out "$tmp/merged" --quiet
  for f in "$tmp/local"/*; do
    cmp "$f" "$tmp/merged/$(basename "$f")"
  done
  echo "slurm: merged outputs identical to the local sweep ($(ls "$tmp/local" | wc -l) files)"
}

# The shipped script, as README shows it, with this run's number of shards and CPUs.
cp -r scenarios "$tmp/work/"
cd "$tmp/work"
job=$(SHARDS=$SHARDS HBSIM="$HBSIM" sbatch --parsable --array=1-$SHARDS --cpus-per-task=1 \
  "$OLDPWD/deploy/slurm/sweep.sbatch")
echo "slurm: submitted job array $job"
wait_for "$job"
for k in $(seq 1 $SHARDS); do
  grep -v '^$' "hbsim-sweep-${job}_$k.out" >&2 || true
done
compare

# A failed task: its cells are gone; merge names the shard and the command; rerun it.
victim=$(ls cells | head -1)
rm "cells/$victim"
if "$HBSIM" sweep merge cells --out "$tmp/merged" 2> "$tmp/merge.err"; then
  echo "slurm: merge succeeded with a cell missing" >&2
  exit 1
fi
cat "$tmp/merge.err"
rerun=$(grep -o 'SHARDS=[0-9]* sbatch --array=[0-9,]* deploy/slurm/sweep.sbatch' "$tmp/merge.err")
array=$(echo "$rerun" | sed 's/.*--array=\([0-9,]*\).*/\1/')
job=$(SHARDS=$SHARDS HBSIM="$HBSIM" sbatch --parsable --array="$array" --cpus-per-task=1 \
  "$OLDPWD/deploy/slurm/sweep.sbatch")
echo "slurm: resubmitted task $array as job $job"
wait_for "$job"
compare
echo "slurm: ok"
