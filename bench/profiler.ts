/**
 * CPU profiles of the measured runs only (not set-up, warm-up or clean-up), taken in-process
 * through the inspector, one .cpuprofile per run: read them with bench/profile-top.ts or in
 * Chrome DevTools. Sampling slows the client a little; compare profiles with profiles.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";

export class RunProfiler {
  private readonly session = new Session();
  private readonly dir: string;
  private started = false;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    this.session.connect();
  }

  async start(): Promise<void> {
    if (!this.started) {
      await this.session.post("Profiler.enable");
      await this.session.post("Profiler.setSamplingInterval", { interval: 200 });
      this.started = true;
    }
    await this.session.post("Profiler.start");
  }

  /** Stops sampling and writes `<name>.cpuprofile`; returns its path. */
  async stop(name: string): Promise<string> {
    const { profile } = await this.session.post("Profiler.stop");
    const file = join(this.dir, `${name}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return file;
  }

  close(): void {
    this.session.disconnect();
  }
}
