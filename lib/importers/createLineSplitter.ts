/**
 * Byte chunks -> text lines, for the line-based importers. Decodes UTF-8 across chunk boundaries (a
 * multi-byte character may be split between reads) and accepts `\n` and `\r\n` endings.
 */

/** LineSplitter: push byte or string chunks, get the lines they complete; finish returns the last partial line. */
export interface LineSplitter {
  push(chunk: Uint8Array | string): string[];
  finish(): string[];
}

/** createLineSplitter: a streaming splitter; lines are returned without their line terminator. */
export function createLineSplitter(options: { maxLineLength?: number } = {}): LineSplitter {
  // A file without newlines (a binary passed by mistake) must not grow one string forever.
  const maxLineLength = options.maxLineLength ?? 1024 * 1024;
  const decoder = new TextDecoder("utf-8");
  let partial = "";

  const split = (text: string): string[] => {
    const parts = (partial + text).split("\n");
    partial = parts.pop() ?? "";
    const lines = parts.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
    if (partial.length > maxLineLength) {
      lines.push(partial);
      partial = "";
    }
    return lines;
  };

  return {
    push: (chunk) => split(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true })),
    finish: () => {
      const rest = split(decoder.decode() + "\n");
      partial = "";
      return rest.length === 1 && rest[0] === "" ? [] : rest;
    },
  };
}
