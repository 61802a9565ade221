/**
 * Embedded-mode character store: every record in one JSON file (`characters.json`) under
 * a state dir, rewritten atomically (write temp file, fsync, rename) so a crash never
 * leaves half a file. Writes are serialised inside the process.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { FarmError } from "../errors.ts";
import { addReferences, reembedCharacter } from "./logic.ts";
import { assertCharacterId, characterNotFound, type CharacterStore } from "./store.ts";
import type { CharacterRecord, ReferenceEmbedding } from "./types.ts";

interface FileShape {
  version: 1;
  characters: CharacterRecord[];
}

export class EmbeddedCharacterStore implements CharacterStore {
  readonly file: string;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(stateDir: string) {
    this.file = path.join(stateDir, "characters.json");
  }

  private async read(): Promise<CharacterRecord[]> {
    let text: string;
    try {
      text = await fs.readFile(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const parsed = JSON.parse(text) as FileShape;
    return Array.isArray(parsed.characters) ? parsed.characters : [];
  }

  private async write(records: CharacterRecord[]): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.${Date.now()}.tmp`;
    const fh = await fs.open(tmp, "w");
    try {
      await fh.writeFile(JSON.stringify({ version: 1, characters: records } satisfies FileShape));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, this.file);
  }

  /** Run read-modify-write steps one at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  create(record: CharacterRecord): Promise<CharacterRecord> {
    assertCharacterId(record.character_id);
    return this.serial(async () => {
      const all = await this.read();
      if (all.some((r) => r.character_id === record.character_id)) throw new FarmError("CONFLICT", `character '${record.character_id}' already exists`);
      all.push(record);
      await this.write(all);
      return record;
    });
  }

  async get(id: string): Promise<CharacterRecord | null> {
    assertCharacterId(id);
    await this.chain;
    return (await this.read()).find((r) => r.character_id === id) ?? null;
  }

  async list(): Promise<CharacterRecord[]> {
    await this.chain;
    return (await this.read()).sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  update(id: string, more: ReferenceEmbedding[], model?: string): Promise<CharacterRecord> {
    return this.modify(id, (r) => addReferences(r, more, model));
  }

  reembed(id: string, refs: ReferenceEmbedding[], model: string): Promise<CharacterRecord> {
    return this.modify(id, (r) => reembedCharacter(r, refs, model));
  }

  private modify(id: string, change: (r: CharacterRecord) => CharacterRecord): Promise<CharacterRecord> {
    assertCharacterId(id);
    return this.serial(async () => {
      const all = await this.read();
      const i = all.findIndex((r) => r.character_id === id);
      if (i < 0) throw characterNotFound(id);
      const updated = change(all[i]!);
      all[i] = updated;
      await this.write(all);
      return updated;
    });
  }

  delete(id: string): Promise<boolean> {
    assertCharacterId(id);
    return this.serial(async () => {
      const all = await this.read();
      const rest = all.filter((r) => r.character_id !== id);
      if (rest.length === all.length) return false;
      await this.write(rest);
      return true;
    });
  }
}
