// Headless Chromium (Debian's `chromium`) driven over the DevTools protocol with the `ws`
// client the project already has: open a page, evaluate in it, take a screenshot. The
// dashboard's end-to-end test and its screenshot command use it. `--dump-dom` is not enough
// here: the page keeps an event stream open, so Chromium's virtual time never runs out.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

import WebSocket from 'ws';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export class ChromiumError extends Error {
  override readonly name = 'ChromiumError';
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  method: string;
}

export interface ChromiumOptions {
  readonly executable?: string;
  readonly width?: number;
  readonly height?: number;
  readonly startTimeoutMs?: number;
}

export class HeadlessChromium {
  readonly #child: ChildProcess;
  readonly #ws: WebSocket;
  readonly #profile: string;
  readonly #pending = new Map<number, Pending>();
  #next = 1;

  private constructor(child: ChildProcess, ws: WebSocket, profile: string) {
    this.#child = child;
    this.#ws = ws;
    this.#profile = profile;
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
      if (m.id === undefined) return;
      const p = this.#pending.get(m.id);
      if (p === undefined) return;
      this.#pending.delete(m.id);
      if (m.error !== undefined) p.reject(new ChromiumError(`${p.method}: ${m.error.message}`));
      else p.resolve(m.result);
    });
    ws.on('close', () => {
      for (const p of this.#pending.values())
        p.reject(new ChromiumError(`${p.method}: the browser went away`));
      this.#pending.clear();
    });
  }

  static async launch(o: ChromiumOptions = {}): Promise<HeadlessChromium> {
    const profile = await mkdtemp(path.join(tmpdir(), 'fadnet-chromium-'));
    const child = spawn(
      o.executable ?? DEFAULT_CHROMIUM,
      [
        '--headless',
        // Chromium refuses to run as root with its sandbox; CI containers run as root.
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--no-first-run',
        '--no-default-browser-check',
        '--hide-scrollbars',
        `--window-size=${o.width ?? 1280},${o.height ?? 900}`,
        `--user-data-dir=${profile}`,
        '--remote-debugging-port=0',
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    try {
      const endpoint = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new ChromiumError(`no DevTools endpoint within ${o.startTimeoutMs ?? 30_000} ms: ${log}`)),
          o.startTimeoutMs ?? 30_000,
        );
        child.once('error', (error) => {
          clearTimeout(timer);
          reject(
            new ChromiumError(`cannot start ${o.executable ?? DEFAULT_CHROMIUM}: ${error.message}`, {
              cause: error,
            }),
          );
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new ChromiumError(`chromium exited with ${code} before it listened: ${log.slice(-2000)}`));
        });
        createInterface({ input: child.stderr! }).on('line', (line) => {
          log = (log + line + '\n').slice(-8000);
          const m = /DevTools listening on (ws:\/\/\S+)/.exec(line);
          if (m !== null) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      const ws = new WebSocket(endpoint, { perMessageDeflate: false });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      return new HeadlessChromium(child, ws, profile);
    } catch (error) {
      child.kill('SIGKILL');
      await rm(profile, { recursive: true, force: true });
      throw error;
    }
  }

  send<T>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
      this.#ws.send(
        JSON.stringify({ id, method, params, ...(sessionId === undefined ? {} : { sessionId }) }),
      );
    });
  }

  /** A new tab of `width` x `height` CSS pixels showing `url`, loaded. */
  async open(url: string, width = 1280, height = 900): Promise<ChromiumPage> {
    const { targetId } = await this.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send<{ sessionId: string }>('Target.attachToTarget', {
      targetId,
      flatten: true,
    });
    const page = new ChromiumPage(this, sessionId);
    await this.send(
      'Emulation.setDeviceMetricsOverride',
      { width, height, deviceScaleFactor: 1, mobile: false },
      sessionId,
    );
    await this.send('Page.enable', {}, sessionId);
    await this.send('Page.navigate', { url }, sessionId);
    await page.waitFor('document.readyState === "complete"', 20_000);
    return page;
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#ws.close();
    if (this.#child.exitCode === null) this.#child.kill('SIGTERM');
    await exited;
    await rm(this.#profile, { recursive: true, force: true });
  }
}

export class ChromiumPage {
  readonly #browser: HeadlessChromium;
  readonly #session: string;

  constructor(browser: HeadlessChromium, session: string) {
    this.#browser = browser;
    this.#session = session;
  }

  /** The value of a JavaScript expression in the page (JSON-serialisable results only). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.#browser.send<{ result: { value?: unknown }; exceptionDetails?: { text: string } }>(
      'Runtime.evaluate',
      { expression, returnByValue: true, awaitPromise: true },
      this.#session,
    );
    if (r.exceptionDetails !== undefined)
      throw new ChromiumError(`${expression}: ${r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Polls `expression` in the page until it is truthy; names it when time runs out. */
  async waitFor(expression: string, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (await this.evaluate<boolean>(`Boolean(${expression})`)) return;
      if (Date.now() > end)
        throw new ChromiumError(`timed out after ${timeoutMs} ms waiting for ${expression}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A PNG of the whole page (its full scroll height). */
  async screenshot(): Promise<Buffer> {
    const { data } = await this.#browser.send<{ data: string }>(
      'Page.captureScreenshot',
      { format: 'png', captureBeyondViewport: true },
      this.#session,
    );
    return Buffer.from(data, 'base64');
  }
}
