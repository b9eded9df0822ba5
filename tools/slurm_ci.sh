#!/usr/bin/env bash
# slurm_ci.sh -- a real single-node Slurm cluster (munged, MariaDB, slurmdbd,
# slurmctld, slurmd) from Debian 12 packages, for CI and for developers who
# want to try profiles/slurm for real.  Must run as root.  No systemd, no cgroups.
#
# Usage:
#   bash tools/slurm_ci.sh install   # apt-get install the packages (no-op when present)
#   bash tools/slurm_ci.sh start     # write config, start all daemons, wait for the node to be idle,
#                                    # register cluster + account so that sacct/sacctmgr work
#                                    # (succeeds at once if everything already runs with this config)
#   bash tools/slurm_ci.sh status    # show daemons and sinfo; exit 0 if all up, 3 otherwise
#   bash tools/slurm_ci.sh smoke     # srun + sbatch (with --gpus=1) sanity check, a few seconds
#   bash tools/slurm_ci.sh stop      # SIGTERM every daemon by pid file, wait, SIGKILL after a timeout
#
# Cluster it makes: ClusterName=ci, one node (`hostname -s`) in partition `debug` (default),
# account `vbpipe` (root is a member, so `-A vbpipe` is accepted), one FAKE GPU
# (gres gpu backed by /dev/null: `--gpus=1` / `--gres=gpu:1` are accepted and the job
# sees CUDA_VISIBLE_DEVICES=0; there is no real device behind it).
#
# Environment knobs (all optional):
#   SLURM_CI_DIR=/tmp/slurm-ci/run   logs, pid files, slurmctld state, slurmd spool
#   SLURM_CI_CPUS=4                  CPUs the node advertises (config_overrides; more than the real cores
#                                    is fine: 1-CPU jobs then share the cores)
#   SLURM_CI_MEM_MB=65536            memory the node advertises (not enforced; profiles may ask for GBs)
#   SLURM_CI_GPUS=1                  number of fake GPUs (0 = none; >1: character-device clones of
#                                    /dev/null under $SLURM_CI_DIR/fakegpu, made with mknod)
#   SLURM_CI_PARTITION=debug  SLURM_CI_ACCOUNT=vbpipe
#   SLURM_CI_TIMEOUT=60              seconds allowed for each wait (daemon up, node idle, ...)
#
# Site values in CI -- how CI runs profiles/slurm "unchanged but for the site values":
#   profiles/slurm/config.v8+.yaml keeps slurm_partition/slurm_account under `default-resources`
#   ("EDIT FOR YOUR SITE").  CI does NOT pass `--default-resources ...` on the command line,
#   because a command-line --default-resources REPLACES the profile's whole default-resources
#   block (runtime/mem_mb scaling would be lost).  Instead CI makes a copy of the profile with only
#   those two values rewritten:
#       prof=$(bash tools/slurm_site_override.sh debug vbpipe)     # prints the copy's directory
#       timeout -k 10 900 snakemake --profile "$prof" ...
#   (the copy is a byte-for-byte copy of profiles/slurm except the two lines; see that script).
#
# Pitfalls baked in here (see tools/README.md):
#   * slurm.conf MUST be /etc/slurm/slurm.conf: the jobstep plugin strips SLURM_CONF inside jobs.
#   * MinJobAge must be >= 3 x slurm-init-seconds-before-status-checks (we use 300).
#   * a fake GPU needs `File=` in gres.conf, or the node goes INVAL.
#   * with the Slurm client installed but no controller, every `snakemake` call pays ~10 s
#     (the plugin runs `scontrol show config` with a 10 s timeout) -- keep Slurm up while testing.
set -euo pipefail

SLURM_CI_DIR=${SLURM_CI_DIR:-/tmp/slurm-ci/run}
SLURM_CI_CPUS=${SLURM_CI_CPUS:-4}
SLURM_CI_MEM_MB=${SLURM_CI_MEM_MB:-65536}
SLURM_CI_GPUS=${SLURM_CI_GPUS:-1}
SLURM_CI_PARTITION=${SLURM_CI_PARTITION:-debug}
SLURM_CI_ACCOUNT=${SLURM_CI_ACCOUNT:-vbpipe}
SLURM_CI_TIMEOUT=${SLURM_CI_TIMEOUT:-60}
CLUSTER=ci
DB_PASS=slurmci                       # local-only MariaDB user for slurmdbd (bound to 127.0.0.1)
PKGS=(munge slurm-client slurmctld slurmd slurmdbd mariadb-server)
export DEBIAN_FRONTEND=noninteractive

log() { echo "[slurm_ci] $*" >&2; }

# ---------------------------------------------------------------- diagnostics
diagnostics() {
    log "---- diagnostics ----"
    local f
    for f in "$SLURM_CI_DIR"/slurmctld.log "$SLURM_CI_DIR"/slurmd.log "$SLURM_CI_DIR"/slurmdbd.log \
             "$SLURM_CI_DIR"/mariadb/mariadb.log "$SLURM_CI_DIR"/mariadb.out /var/log/munge/munged.log; do
        if [ -s "$f" ]; then echo "==== tail -n 30 $f" >&2; tail -n 30 "$f" >&2 || true; fi
    done
    echo "==== daemons" >&2; show_daemons >&2 || true
    echo "==== sinfo" >&2; timeout 10 sinfo -N -l >&2 2>&1 || true
    log "---- end diagnostics ----"
}

die() { log "ERROR: $*"; diagnostics; exit 1; }

# wait_for SECONDS DESCRIPTION CMD... : poll CMD every 0.2 s; diagnostics + exit 1 on timeout.
# If WATCH_PID is set, give up early when that process has died.
wait_for() {
    local t=$1 what=$2; shift 2
    local end=$((SECONDS + t))
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$end" ]; then die "timeout (${t}s) waiting for: $what"; fi
        if [ -n "${WATCH_PID:-}" ] && ! kill -0 "$WATCH_PID" 2>/dev/null; then
            die "process $WATCH_PID exited while waiting for: $what"
        fi
        sleep 0.2
    done
}

pid_alive() { # pid_alive PIDFILE
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# stop_pidfiles NAME=PIDFILE... : SIGTERM all of them at once, wait up to SLURM_CI_TIMEOUT s
# for all to exit, SIGKILL the rest. Only processes named in our pid files are touched.
stop_pidfiles() {
    local spec name f p end alive
    local -a names=() pids=() files=()
    for spec in "$@"; do
        name=${spec%%=*} f=${spec#*=}
        [ -s "$f" ] || continue
        p=$(cat "$f")
        if [[ $p =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null; then
            kill -TERM "$p" 2>/dev/null || true
            names+=("$name") pids+=("$p") files+=("$f")
        else
            rm -f "$f"
        fi
    done
    [ ${#pids[@]} -gt 0 ] || return 0
    end=$((SECONDS + SLURM_CI_TIMEOUT))
    while :; do
        alive=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        if [ "$alive" = 0 ] || [ "$SECONDS" -ge "$end" ]; then break; fi
        sleep 0.2
    done
    local i
    for i in "${!pids[@]}"; do
        if kill -0 "${pids[$i]}" 2>/dev/null; then
            log "${names[$i]} (pid ${pids[$i]}) still alive after ${SLURM_CI_TIMEOUT}s, SIGKILL"
            kill -KILL "${pids[$i]}" 2>/dev/null || true
        fi
        log "stopped ${names[$i]} (pid ${pids[$i]})"
        rm -f "${files[$i]}"
    done
}

MUNGE_PID=/run/munge/munged.pid
daemon_pidfile() {
    case $1 in
        munged) echo "$MUNGE_PID" ;;
        mariadb) echo "$SLURM_CI_DIR/mariadb/mariadb.pid" ;;
        *) echo "$SLURM_CI_DIR/$1.pid" ;;
    esac
}
DAEMONS=(munged mariadb slurmdbd slurmctld slurmd)

show_daemons() {
    local d f
    for d in "${DAEMONS[@]}"; do
        f=$(daemon_pidfile "$d")
        if pid_alive "$f"; then echo "  $d: running (pid $(cat "$f"))"; else echo "  $d: not running"; fi
    done
}

need_root() { [ "$(id -u)" = 0 ] || { log "must run as root"; exit 1; }; }

# ---------------------------------------------------------------- install
pkgs_installed() {
    local out
    out=$(dpkg-query -W -f='${db:Status-Status}\n' "${PKGS[@]}" 2>/dev/null) || return 1
    [ "$(grep -cx installed <<<"$out")" -eq "${#PKGS[@]}" ]
}

do_install() {
    need_root
    if pkgs_installed; then log "packages already installed"; return 0; fi
    log "installing ${PKGS[*]}"
    # no systemd here: the packages' postinst cannot start services (policy-rc.d), which is what we want
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null
    pkgs_installed || { log "ERROR: packages still missing after apt-get install"; exit 1; }
}

# ---------------------------------------------------------------- config
host() { hostname -s; }

# The desired slurm.conf, without FirstJobId (that one depends on the database, see do_start)
slurm_conf_body() {
    local h gres_types="" node_gres=""
    h=$(host)
    if [ "$SLURM_CI_GPUS" -gt 0 ]; then gres_types="GresTypes=gpu"; node_gres="Gres=gpu:${SLURM_CI_GPUS}"; fi
    cat <<EOF
# Written by tools/slurm_ci.sh -- single-node CI cluster; do not edit by hand.
ClusterName=${CLUSTER}
SlurmctldHost=${h}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=${SLURM_CI_DIR}/state
SlurmdSpoolDir=${SLURM_CI_DIR}/spool
SlurmctldPidFile=${SLURM_CI_DIR}/slurmctld.pid
SlurmdPidFile=${SLURM_CI_DIR}/slurmd.pid
SlurmctldLogFile=${SLURM_CI_DIR}/slurmctld.log
SlurmdLogFile=${SLURM_CI_DIR}/slurmd.log
MailProg=/bin/true
# no cgroups at all: plain process tracking, no task binding/confinement
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# jobs that give no --mem get 1 GB per CPU instead of the whole node
DefMemPerCPU=1000
SchedulerType=sched/backfill
# accounting through slurmdbd (MariaDB) so that sacct/sacctmgr work like on a real site
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageTRES=gres/gpu
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
# finished jobs stay visible to squeue for 300 s (the Snakemake plugin's squeue mode
# needs MinJobAge >= 3 x slurm-init-seconds-before-status-checks)
MinJobAge=300
# trust the CPUs/RealMemory below instead of the hardware, so that ~${SLURM_CI_CPUS} 1-CPU jobs run at once
SlurmdParameters=config_overrides
${gres_types}
NodeName=${h} NodeAddr=127.0.0.1 CPUs=${SLURM_CI_CPUS} RealMemory=${SLURM_CI_MEM_MB} ${node_gres} State=UNKNOWN
PartitionName=${SLURM_CI_PARTITION} Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

gres_conf() {
    local h i
    h=$(host)
    [ "$SLURM_CI_GPUS" -gt 0 ] || return 0
    echo "# Written by tools/slurm_ci.sh: FAKE GPUs. File= is required (Count= alone leaves the node INVAL)."
    if [ "$SLURM_CI_GPUS" -eq 1 ]; then
        echo "NodeName=${h} Name=gpu File=/dev/null"
    else
        for ((i = 0; i < SLURM_CI_GPUS; i++)); do
            echo "NodeName=${h} Name=gpu File=${SLURM_CI_DIR}/fakegpu/nvidia${i}"
        done
    fi
}

slurmdbd_conf() {
    cat <<EOF
# Written by tools/slurm_ci.sh
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=${DB_PASS}
LogFile=${SLURM_CI_DIR}/slurmdbd.log
PidFile=${SLURM_CI_DIR}/slurmdbd.pid
EOF
}

# fingerprint of everything that should trigger a restart when it changes
config_key() { { slurm_conf_body; gres_conf; slurmdbd_conf; } | md5sum | cut -d' ' -f1; }

# ---------------------------------------------------------------- start
start_munge() {
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
    if [ ! -s /etc/munge/munge.key ]; then
        log "creating munge key"
        mungekey --create --force
    fi
    chown munge:munge /etc/munge/munge.key && chmod 600 /etc/munge/munge.key
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
    runuser -u munge -- /usr/sbin/munged
    wait_for "$SLURM_CI_TIMEOUT" "munged (munge -n | unmunge)" sh -c 'munge -n | unmunge'
    log "munged up (pid $(cat "$MUNGE_PID" 2>/dev/null || echo ?))"
}

start_mariadb() {
    install -d -o mysql -g mysql -m 0755 /run/mysqld
    install -d -o mysql -g mysql -m 0755 "$SLURM_CI_DIR/mariadb"
    if mariadb -e 'select 1' >/dev/null 2>&1; then
        # already up (maybe started by an earlier run whose SLURM_CI_DIR was wiped): adopt its pid file
        local pf
        pf=$(mariadb -N -e 'select @@pid_file' 2>/dev/null || true)
        if [ -n "$pf" ] && [ -s "$pf" ] && [ "$pf" != "$SLURM_CI_DIR/mariadb/mariadb.pid" ]; then
            cp "$pf" "$SLURM_CI_DIR/mariadb/mariadb.pid"
        fi
        return 0
    fi
    if [ ! -d /var/lib/mysql/mysql ]; then
        log "initialising MariaDB data directory"
        mariadb-install-db --user=mysql --datadir=/var/lib/mysql >"$SLURM_CI_DIR/mariadb-install.log" 2>&1 \
            || { cat "$SLURM_CI_DIR/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
    fi
    # mariadbd runs as mysql: its pid file and log live in $SLURM_CI_DIR/mariadb, owned by that user
    # setsid: own session, so it survives the caller's shell
    setsid /usr/sbin/mariadbd --user=mysql --datadir=/var/lib/mysql --socket=/run/mysqld/mysqld.sock \
        --bind-address=127.0.0.1 --skip-name-resolve --pid-file="$SLURM_CI_DIR/mariadb/mariadb.pid" \
        --log-error="$SLURM_CI_DIR/mariadb/mariadb.log" </dev/null >"$SLURM_CI_DIR/mariadb.out" 2>&1 &
    WATCH_PID=$! wait_for "$SLURM_CI_TIMEOUT" "MariaDB (mariadb -e 'select 1')" mariadb -e 'select 1'
    wait_for "$SLURM_CI_TIMEOUT" "MariaDB pid file" test -s "$SLURM_CI_DIR/mariadb/mariadb.pid"
    log "MariaDB up (pid $(cat "$SLURM_CI_DIR/mariadb/mariadb.pid"))"
}

start_slurmdbd() {
    mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
      CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '${DB_PASS}';
      GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
    if ! pid_alive "$SLURM_CI_DIR/slurmdbd.pid"; then
        slurmdbd || die "slurmdbd failed to start"
    fi
    wait_for "$SLURM_CI_TIMEOUT" "slurmdbd (sacctmgr list cluster)" sacctmgr -n list cluster
    log "slurmdbd up (pid $(cat "$SLURM_CI_DIR/slurmdbd.pid"))"
}

# next job id = 1 + the largest id the accounting database has seen, so ids do not repeat
# across restarts (slurmctld starts with a clean state each time)
first_job_id() {
    local n
    n=$(mariadb -N -e "SELECT COALESCE(MAX(id_job),0) FROM slurm_acct_db.\`${CLUSTER}_job_table\`" 2>/dev/null || echo 0)
    [[ $n =~ ^[0-9]+$ ]] || n=0
    echo $((n + 1))
}

node_ready() {
    local st
    st=$(sinfo -h -n "$(host)" -o %T 2>/dev/null) || return 1
    case $st in idle|mixed|allocated) return 0 ;; *) return 1 ;; esac
}

all_running() {
    local d
    for d in "${DAEMONS[@]}"; do pid_alive "$(daemon_pidfile "$d")" || return 1; done
    [ -f "$SLURM_CI_DIR/config.key" ] && [ "$(cat "$SLURM_CI_DIR/config.key")" = "$(config_key)" ] || return 1
    timeout 10 munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || return 1
    node_ready
}

do_start() {
    need_root
    local t0=$SECONDS
    if ! command -v slurmctld >/dev/null || ! command -v slurmdbd >/dev/null || ! command -v mariadbd >/dev/null; then
        log "Slurm packages missing: run '$0 install' first"; exit 1
    fi
    mkdir -p "$SLURM_CI_DIR"
    if all_running; then
        log "already running with this configuration"
        sinfo >&2
        return 0
    fi
    # partial or outdated setup: restart the Slurm daemons (munged and MariaDB are reused if alive)
    stop_pidfiles slurmd="$SLURM_CI_DIR/slurmd.pid" slurmctld="$SLURM_CI_DIR/slurmctld.pid"
    stop_pidfiles slurmdbd="$SLURM_CI_DIR/slurmdbd.pid"

    rm -rf "$SLURM_CI_DIR/state" "$SLURM_CI_DIR/spool" "$SLURM_CI_DIR/fakegpu"
    mkdir -p "$SLURM_CI_DIR/state" "$SLURM_CI_DIR/spool" /etc/slurm
    if [ "$SLURM_CI_GPUS" -gt 1 ]; then
        mkdir -p "$SLURM_CI_DIR/fakegpu"
        # character devices (clones of /dev/null, 1:3): Slurm sets CUDA_VISIBLE_DEVICES only for
        # device files; plain files are accepted as gres but the variable is then left unset
        for ((i = 0; i < SLURM_CI_GPUS; i++)); do
            mknod -m 666 "$SLURM_CI_DIR/fakegpu/nvidia$i" c 1 3 2>/dev/null || {
                log "WARNING: mknod failed; fake GPU $i is a plain file (CUDA_VISIBLE_DEVICES stays unset)"
                : >"$SLURM_CI_DIR/fakegpu/nvidia$i"
            }
        done
    fi
    # NB: must be the default path. SLURM_CONF=/elsewhere works for sbatch/squeue, but the
    # jobstep plugin strips SLURM_* (SLURM_CONF too) before `srun` inside the job.
    slurmdbd_conf >/etc/slurm/slurmdbd.conf
    chmod 600 /etc/slurm/slurmdbd.conf
    if [ "$SLURM_CI_GPUS" -gt 0 ]; then gres_conf >/etc/slurm/gres.conf; else rm -f /etc/slurm/gres.conf; fi
    rm -f /etc/slurm/cgroup.conf

    # the client tools (sacctmgr) need slurm.conf already; FirstJobId is appended once the DB is up
    slurm_conf_body >/etc/slurm/slurm.conf
    start_munge
    start_mariadb
    start_slurmdbd
    if ! sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER"; then
        sacctmgr -i add cluster "$CLUSTER" >/dev/null || die "sacctmgr add cluster $CLUSTER failed"
    fi
    { slurm_conf_body; echo "FirstJobId=$(first_job_id)"; } >/etc/slurm/slurm.conf

    slurmctld -c || die "slurmctld failed to start"      # -c: ignore any saved state
    wait_for "$SLURM_CI_TIMEOUT" "slurmctld (scontrol ping)" sh -c 'scontrol ping | grep -q UP'
    slurmd || die "slurmd failed to start"
    wait_for "$SLURM_CI_TIMEOUT" "node $(host) idle (sinfo)" node_ready
    # jobs left "running" in the database by an earlier controller that was killed: mark them done
    timeout 30 sacctmgr -i list runawayjobs >/dev/null 2>&1 || true

    # account + association, so that `sbatch -A $SLURM_CI_ACCOUNT` validates and sacct shows it
    if ! sacctmgr -n -P list account format=account | grep -qx "$SLURM_CI_ACCOUNT"; then
        sacctmgr -i add account "$SLURM_CI_ACCOUNT" cluster="$CLUSTER" \
            description="vbpipe CI" organization=vbpipe >/dev/null || die "sacctmgr add account failed"
    fi
    local u
    for u in root ${SUDO_USER:-}; do
        if ! sacctmgr -n -P list assoc user="$u" account="$SLURM_CI_ACCOUNT" format=user | grep -qx "$u"; then
            sacctmgr -i add user "$u" account="$SLURM_CI_ACCOUNT" defaultaccount="$SLURM_CI_ACCOUNT" >/dev/null \
                || die "sacctmgr add user $u failed"
        fi
    done
    wait_for "$SLURM_CI_TIMEOUT" "association root/$SLURM_CI_ACCOUNT visible" \
        sh -c "sacctmgr -n -s -P list user root format=account | grep -qx '$SLURM_CI_ACCOUNT'"

    config_key >"$SLURM_CI_DIR/config.key"
    sinfo >&2
    log "Slurm up in $((SECONDS - t0)) s (partition $SLURM_CI_PARTITION, account $SLURM_CI_ACCOUNT," \
        "$SLURM_CI_CPUS CPUs, $SLURM_CI_GPUS fake GPU(s))"
}

# ---------------------------------------------------------------- stop / status / smoke
do_stop() {
    need_root
    # controller and node first (they still talk to slurmdbd), then slurmdbd, then its database and munged
    stop_pidfiles slurmd="$SLURM_CI_DIR/slurmd.pid" slurmctld="$SLURM_CI_DIR/slurmctld.pid"
    stop_pidfiles slurmdbd="$SLURM_CI_DIR/slurmdbd.pid"
    stop_pidfiles mariadb="$SLURM_CI_DIR/mariadb/mariadb.pid" munged="$MUNGE_PID"
    rm -f "$SLURM_CI_DIR/config.key"
    log "all stopped"
}

do_status() {
    show_daemons
    if pid_alive "$SLURM_CI_DIR/slurmctld.pid"; then timeout 10 sinfo || true; fi
    if all_running; then echo "slurm_ci: running"; return 0; fi
    echo "slurm_ci: not (fully) running"
    return 3
}

do_smoke() {
    local d j gpu_opt=()
    d=$(mktemp -d)
    [ "$SLURM_CI_GPUS" -gt 0 ] && gpu_opt=(--gpus=1)
    # shellcheck disable=SC2016  # expanded inside the job, on purpose
    (cd "$d" && timeout 60 srun -A "$SLURM_CI_ACCOUNT" -n1 "${gpu_opt[@]}" \
        sh -c 'echo "srun on $(hostname) CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-unset}"') >&2 \
        || die "srun smoke test failed"
    j=$(cd "$d" && sbatch --parsable -A "$SLURM_CI_ACCOUNT" -t 1 --mem 100 "${gpu_opt[@]}" --wrap 'srun -n1 hostname') \
        || die "sbatch failed"
    wait_for "$SLURM_CI_TIMEOUT" "smoke job $j COMPLETED" \
        sh -c "squeue --states=all -j $j -h -o %T | grep -qx COMPLETED"
    wait_for "$SLURM_CI_TIMEOUT" "smoke job $j in sacct" \
        sh -c "sacct -X -n -P -j $j -o Partition,State | grep -qx '$SLURM_CI_PARTITION|COMPLETED'"
    sacct -X -j "$j" -o JobID,JobName,Account,Partition,AllocTRES%40,State >&2
    rm -rf "$d"
    log "smoke OK"
}

case "${1:-}" in
    install) do_install ;;
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    smoke) do_smoke ;;
    *) echo "usage: $0 install|start|status|smoke|stop" >&2; exit 2 ;;
esac
