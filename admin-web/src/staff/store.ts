// What the scanner keeps on the device across reloads, in IndexedDB: per performance, the signed
// manifest as downloaded (verified again each time it is opened), this device's book of who is
// inside, the offline scans not yet uploaded, and what the last uploads reported.

import type { BookScan, PendingScan } from "./door";
import type { Conflict, UploadAnswer } from "./protocol";

const DB_NAME = "picket-staff";
const DB_VERSION = 1;
const STORE = "door";

/** One performance's door on this device. */
export interface SavedDoor {
  performance: string;
  manifest: { bytes: ArrayBuffer; publicKey: string; fetchedAtMs: number } | null;
  book: [string, BookScan[]][];
  pending: PendingScan[];
  /** Conflicts and refusals the server reported for this device's uploads, newest first. */
  conflicts: Conflict[];
  refused: UploadAnswer["refused"];
}

/** Conflicts and refusals kept to show, newest first. */
export const REPORTED_KEPT_MAX = 200;

let opening: Promise<IDBDatabase> | null = null;

function database(): Promise<IDBDatabase> {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "performance" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  opening.catch(() => {
    opening = null;
  });
  return opening;
}

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function emptyDoor(performance: string): SavedDoor {
  return { performance, manifest: null, book: [], pending: [], conflicts: [], refused: [] };
}

export async function loadDoor(performance: string): Promise<SavedDoor> {
  const db = await database();
  const found = await done<SavedDoor | undefined>(db.transaction(STORE, "readonly").objectStore(STORE).get(performance));
  return found ?? emptyDoor(performance);
}

export async function saveDoor(door: SavedDoor): Promise<void> {
  const db = await database();
  await done(db.transaction(STORE, "readwrite").objectStore(STORE).put(door));
}

const SCANNER_KEY = "picket.staff.scanner";

function randomU63(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  bytes[0] &= 0x7f; // below 2^63: within the OpenAPI document's 19 digits
  return new DataView(bytes.buffer).getBigUint64(0, false).toString();
}

/** This device's scanner id, chosen at random once and kept. */
export function scannerId(): string {
  let id = localStorage.getItem(SCANNER_KEY);
  if (!id || !/^\d{1,19}$/.test(id)) {
    id = randomU63();
    localStorage.setItem(SCANNER_KEY, id);
  }
  return id;
}

/** A fresh nonce for one offline scan. */
export function newNonce(): string {
  return randomU63();
}
