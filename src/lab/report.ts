// The demo's printed output: numbered steps with their durations, indented detail, nothing else.
// Plain text (no colour) so it reads the same in a terminal, a CI log and the transcript file.

export type Sink = (text: string) => void;

export function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export class Reporter {
  readonly #sink: Sink;
  readonly transcript: string[] = [];
  #stepStart = 0;
  readonly steps: Array<{ n: number; title: string; ms: number }> = [];
  #current: { n: number; title: string } | undefined;

  constructor(sink: Sink) {
    this.#sink = sink;
  }

  line(text = ''): void {
    this.transcript.push(text);
    this.#sink(`${text}\n`);
  }

  /** Indented detail under the current step; several lines keep their own layout. */
  info(text: string): void {
    for (const l of text.split('\n')) this.line(l === '' ? '' : `   ${l}`);
  }

  step(n: number, title: string): void {
    this.endStep();
    this.#current = { n, title };
    this.#stepStart = performance.now();
    this.line();
    this.line(`${n}. ${title}`);
  }

  /** Closes the current step with its duration (called by the next step() too). */
  endStep(): void {
    if (this.#current === undefined) return;
    const ms = performance.now() - this.#stepStart;
    this.steps.push({ ...this.#current, ms });
    this.line(`   (step ${this.#current.n}: ${seconds(ms)})`);
    this.#current = undefined;
  }
}
