// The scanner at work: where it is, whether it is online, the result of the last scan, the
// camera and the picture input, the offline list and queue, and the conflicts reported.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { errorMessage } from "../lib/errors";
import { count, dateTime } from "../lib/format";
import { tr } from "../lib/i18n";
import { Camera } from "./Camera";
import { DoorController } from "./controller";
import { decodeFile, preloadDecoder } from "./decode";
import { mainDoorLabel } from "./PickDoor";
import type { Conflict, Direction, ReportedScan, UploadRefusal } from "./protocol";
import { ResultPanel } from "./ResultPanel";
import { chooseDoor, signOut, type DoorChoice } from "./session";
import { scannerId } from "./store";

function refusalText(reason: UploadRefusal): string {
  switch (reason) {
    case "unknown_ticket":
      return tr("발행되지 않은 티켓", "a ticket never issued");
    case "revoked":
      return tr("취소·양도된 티켓 (명단이 오래됨)", "cancelled or moved (the list was stale)");
    case "unknown_gate":
      return tr("없는 게이트", "an unknown gate");
    case "scan_ahead":
      return tr("기기 시계가 서버보다 5분 이상 빠름", "the device clock is over 5 min ahead");
    case "too_many_scans":
      return tr("스캔 횟수 초과", "too many scans");
  }
}

export function ScanScreen(props: { choice: DoorChoice; token: string }) {
  const controller = useMemo(() => new DoorController(props.choice, props.token), [props.choice.performance, props.choice.gate, props.token]);
  const [direction, setDirection] = useState<Direction>("entry");
  const file = useRef<HTMLInputElement>(null);
  const me = scannerId();

  useEffect(() => {
    void controller.start();
    // Where the browser has no BarcodeDetector, jsqr is fetched now, while the network is up.
    void preloadDecoder().catch(() => undefined);
    return () => controller.stop();
  }, [controller]);

  useEffect(() => {
    if (controller.stream.denial.value) void signOut(controller.stream.denial.value);
  }, [controller.stream.denial.value]);

  const info = controller.info.value;
  const status = controller.stream.status.value;
  const online = status === "open";
  const pending = controller.pending.value;
  const manifest = controller.manifestState.value;
  const saved = controller.saved.value;

  const gateLabel = (gate: number) => info?.gates.find((g) => g.id === gate)?.label ?? (gate === 0 ? mainDoorLabel() : tr(`${gate}번 게이트`, `gate ${gate}`));
  const scanLabel = (scan: ReportedScan) =>
    `${dateTime(scan.at_ms)} · ${gateLabel(scan.gate)} · ${
      scan.scanner === null ? tr("온라인 스캔", "online scan") : scan.scanner === me ? tr("이 기기", "this device") : tr("다른 기기", "another device")
    }`;

  /** A ticket as staff can find it: its seat from the list (in the clear there), and its id. */
  const ticketName = (ticket: string) => {
    const place = controller.placeOf(ticket);
    return place ? tr(`${place} (티켓 ${ticket})`, `${place} (ticket ${ticket})`) : tr(`티켓 ${ticket}`, `Ticket ${ticket}`);
  };

  async function scanPicture(event: Event) {
    const input = event.currentTarget as HTMLInputElement;
    const picked = input.files?.[0];
    input.value = "";
    if (!picked) return;
    let code: string | null = null;
    try {
      code = await decodeFile(picked);
    } catch {
      // Not an image the browser can open: as unreadable as a blurred one.
    }
    await controller.scan(code, direction);
  }

  const statusText = online
    ? tr("온라인", "Online")
    : status === "offline"
      ? tr("오프라인", "Offline")
      : status === "connecting" || status === "waiting"
        ? tr("연결 중…", "Connecting…")
        : tr("연결 끊김", "Disconnected");

  const conflicts: Conflict[] = saved.conflicts;
  return (
    <div class="scan-screen">
      <section class="door-bar" aria-label={tr("확인 중인 공연", "Where this scanner is")}>
        <div>
          <p class="door-title">{props.choice.title}</p>
          <p class="muted">
            {dateTime(props.choice.starts_at_ms)} · {props.choice.gateLabel}
          </p>
        </div>
        <p class={online ? "badge online" : "badge offline"} role="status" data-testid="connection" data-online={online ? "true" : "false"}>
          {statusText}
          <span data-testid="pending" data-count={String(pending)}>
            {pending > 0 ? ` · ${tr(`대기 ${count(pending)}건`, `${count(pending)} pending`)}` : ""}
          </span>
        </p>
      </section>

      <div class="scan-main">
        <ResultPanel shown={controller.shown.value} gateLabel={gateLabel} onProofChecked={() => void controller.scan(controller.shown.value?.code ?? null, direction, true)} />

        {info?.reentry && (
          <fieldset class="direction">
            <legend>{tr("스캔 종류", "Scan for")}</legend>
            {(["entry", "exit"] as const).map((d) => (
              <label key={d} class={direction === d ? "chosen" : ""}>
                <input type="radio" name="direction" value={d} checked={direction === d} onChange={() => setDirection(d)} />
                {d === "entry" ? tr("입장", "Entry") : tr("퇴장", "Exit")}
              </label>
            ))}
          </fieldset>
        )}

        <Camera onCode={(code) => void controller.scan(code, direction)} />
        <label class="button secondary wide file-scan">
          {tr("사진으로 스캔", "Scan a picture")}
          <input ref={file} type="file" accept="image/*" class="visually-hidden" data-testid="scan-file" onChange={scanPicture} />
        </label>
      </div>

      <div class="scan-side">
        <section class="offline-panel" aria-labelledby="offline-title">
          <h2 id="offline-title">{tr("오프라인 대비", "Offline")}</h2>
          <p data-testid="manifest-state" data-state={manifest.state}>
            {manifest.state === "ready" &&
              tr(
                `명단 ${count(manifest.tickets)}장 · ${dateTime(manifest.issuedAtMs)} 기준`,
                `List of ${count(manifest.tickets)} tickets · as of ${dateTime(manifest.issuedAtMs)}`,
              )}
            {manifest.state === "loading" && tr("명단 받는 중…", "Downloading the list…")}
            {manifest.state === "none" && tr("아직 명단이 없습니다. 연결된 상태에서 받아 두세요.", "No list yet: download it while online.")}
            {manifest.state === "refused" &&
              (manifest.problem === "unsupported"
                ? tr("이 브라우저는 명단 서명(Ed25519)을 확인할 수 없어 오프라인 확인을 쓸 수 없습니다.", "This browser cannot check the list's Ed25519 signature: no offline scanning here.")
                : tr("받은 명단의 서명이 맞지 않아 쓰지 않았습니다.", "The downloaded list failed its checks and was not used."))}
          </p>
          {info && (
            <p class="muted" data-testid="door-counters">
              {tr(
                `입장 ${count(info.counters.admitted)} · 안에 ${count(info.counters.inside)} · 충돌 ${count(info.counters.conflicts_total)}`,
                `Admitted ${count(info.counters.admitted)} · inside ${count(info.counters.inside)} · conflicts ${count(info.counters.conflicts_total)}`,
              )}
            </p>
          )}
          {controller.loadError.value !== null && (
            <p class="error" role="alert">
              {errorMessage(controller.loadError.value)}
            </p>
          )}
          {controller.syncError.value !== null && (
            <p class="error" role="alert">
              {tr("동기화 실패: ", "Sync failed: ")}
              {errorMessage(controller.syncError.value)}
            </p>
          )}
          <div class="actions">
            <button type="button" class="secondary" disabled={!online || manifest.state === "loading"} onClick={() => void controller.refresh().catch((e) => (controller.loadError.value = e))}>
              {tr("명단 새로 받기", "Refresh the list")}
            </button>
            <button type="button" class="secondary" disabled={!online || pending === 0 || controller.syncing.value} onClick={() => void controller.sync()}>
              {controller.syncing.value ? tr("올리는 중…", "Uploading…") : tr("지금 동기화", "Sync now")}
            </button>
          </div>
        </section>

        {(conflicts.length > 0 || saved.refused.length > 0) && (
          <section class="conflicts" aria-labelledby="conflicts-title" data-testid="conflicts">
            <h2 id="conflicts-title">{tr("동기화 후 확인할 것", "To check after sync")}</h2>
            {conflicts.length > 0 && (
              <ul>
                {conflicts.map((c) => (
                  <li key={`${c.ticket}-${c.duplicate.at_ms}`} data-testid="conflict" data-ticket={c.ticket}>
                    <strong>{tr(`${ticketName(c.ticket)}: 두 번 입장`, `${ticketName(c.ticket)} let in twice`)}</strong>
                    <br />
                    {tr("인정된 입장: ", "Counted: ")}
                    {scanLabel(c.kept)}
                    <br />
                    {tr("중복 입장: ", "Duplicate: ")}
                    {scanLabel(c.duplicate)}
                  </li>
                ))}
              </ul>
            )}
            {saved.refused.length > 0 && (
              <ul>
                {saved.refused.map((r) => (
                  <li key={r.nonce} data-testid="refused-upload">
                    {tr(`${ticketName(r.ticket)}: 기록되지 않음 — `, `${ticketName(r.ticket)} not recorded — `)}
                    {refusalText(r.reason)}
                  </li>
                ))}
              </ul>
            )}
            <button type="button" class="secondary" onClick={() => void controller.dismissReports()}>
              {tr("확인함, 목록 지우기", "Seen — clear the list")}
            </button>
          </section>
        )}

        <div class="actions footer-actions">
          <button type="button" class="secondary" onClick={() => chooseDoor(null)}>
            {tr("공연·게이트 변경", "Change performance or gate")}
          </button>
          <button type="button" class="secondary" onClick={() => void signOut()} disabled={pending > 0} title={pending > 0 ? tr("대기 중인 스캔을 먼저 올리세요", "Upload the pending scans first") : undefined}>
            {tr("로그아웃", "Sign out")}
          </button>
        </div>
      </div>
    </div>
  );
}
