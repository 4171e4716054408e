// Loaded into a service by the benchmark with NODE_OPTIONS="--import <this file>"; it changes
// nothing in the service's code path, it only answers signals from the benchmark:
//
// - BENCH_CPU_PROFILE_DIR set (npm run bench -- --profile): samples the main thread with the V8
//   profiler, as --cpu-prof does (which node refuses in NODE_OPTIONS), between two SIGUSR2s: the
//   benchmark sends one when a measured step starts and one when it ends, so start-up and set-up
//   stay out. Window n goes to BENCH_CPU_PROFILE_DIR/cpu-<pid>-<n>.cpuprofile.
// - BENCH_GC_ON_SIGURG=1: runs a full garbage collection on SIGURG, so the idle-sockets workload
//   reads the heap without the garbage of the handshakes. (SIGURG is ignored by default, so a
//   process without this hook is not harmed by it.)
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  let window = 0;
  let running = false;

  const stop = () => {
    running = false;
    // A main-thread session answers synchronously, so this also works inside an 'exit' handler.
    session.post('Profiler.stop', (error, result) => {
      if (error) {
        process.stderr.write(`cpu profile not written: ${error.message}\n`);
        return;
      }
      writeFileSync(join(dir, `cpu-${process.pid}-${window}.cpuprofile`), JSON.stringify(result.profile));
    });
  };

  process.on('SIGUSR2', () => {
    if (running) {
      stop();
      return;
    }
    window += 1;
    running = true;
    session.post('Profiler.start');
  });
  process.on('exit', () => {
    if (running) stop();
  });
}

if (process.env.BENCH_GC_ON_SIGURG === '1') {
  // The documented way to reach V8's gc() without starting node with --expose-gc.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  process.on('SIGURG', () => gc());
}
