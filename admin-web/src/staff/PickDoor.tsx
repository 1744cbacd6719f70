// Choosing where this scanner works: one of the shows the account is assigned to, one of its
// performances, and the gate (the venue's gates, or the main door where it lists none).

import { useEffect, useState } from "preact/hooks";
import { errorMessage } from "../lib/errors";
import { dateTime } from "../lib/format";
import { tr } from "../lib/i18n";
import type { DoorInfo } from "./protocol";
import { chooseDoor, staffGet } from "./session";

interface StaffShow {
  id: string;
  title: string;
}

interface ShowDetail {
  id: string;
  title: string;
  performances: { id: string; starts_at_ms: number; cancelled: boolean }[];
}

/** The gate number a door without listed gates scans with: the main door. */
export const MAIN_DOOR_GATE = 0;

export function mainDoorLabel(): string {
  return tr("정문", "Main door");
}

function Loading() {
  return (
    <p class="muted" role="status">
      {tr("불러오는 중…", "Loading…")}
    </p>
  );
}

export function PickDoor() {
  const [shows, setShows] = useState<StaffShow[] | null>(null);
  const [show, setShow] = useState<ShowDetail | null>(null);
  const [performance, setPerformance] = useState<ShowDetail["performances"][number] | null>(null);
  const [doorInfo, setDoorInfo] = useState<DoorInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  async function load<T>(work: () => Promise<T>, then: (value: T) => void) {
    setLoading(true);
    setError(null);
    try {
      then(await work());
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    void load(() => staffGet<{ items: StaffShow[] }>("/staff/shows"), (answer) => setShows(answer.items));
  }, []);

  const pickShow = (picked: StaffShow) =>
    load(
      () => staffGet<ShowDetail>(`/shows/${picked.id}`),
      (detail) => {
        setShow(detail);
        setPerformance(null);
        setDoorInfo(null);
      },
    );

  const pickPerformance = (picked: ShowDetail["performances"][number]) =>
    load(
      () => staffGet<DoorInfo>(`/performances/${picked.id}/door`),
      (info) => {
        setPerformance(picked);
        setDoorInfo(info);
      },
    );

  function pickGate(gate: number, gateLabel: string) {
    if (!show || !performance) return;
    chooseDoor({ show: show.id, title: show.title, performance: performance.id, starts_at_ms: performance.starts_at_ms, gate, gateLabel });
  }

  const gates = doorInfo ? (doorInfo.gates.length > 0 ? doorInfo.gates : [{ id: MAIN_DOOR_GATE, label: mainDoorLabel() }]) : [];

  return (
    <section class="staff-card" aria-labelledby="pick-title">
      <h1 id="pick-title">{tr("공연과 게이트 선택", "Choose the performance and gate")}</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <h2 id="pick-show">{tr("1. 공연", "1. Show")}</h2>
      {shows === null && !error && <Loading />}
      {shows?.length === 0 && <p class="notice">{tr("배정된 공연이 없습니다. 공연 담당자에게 배정을 요청하세요.", "No show is assigned to you yet. Ask the show's seller to assign you.")}</p>}
      <ul class="pick-list" aria-labelledby="pick-show">
        {shows?.map((s) => (
          <li key={s.id}>
            <button type="button" class={show?.id === s.id ? "pick chosen" : "pick"} aria-pressed={show?.id === s.id} onClick={() => pickShow(s)}>
              {s.title}
            </button>
          </li>
        ))}
      </ul>
      {show && (
        <>
          <h2 id="pick-performance">{tr("2. 회차", "2. Performance")}</h2>
          <ul class="pick-list" aria-labelledby="pick-performance">
            {show.performances.map((p) => (
              <li key={p.id}>
                <button
                  type="button"
                  class={performance?.id === p.id ? "pick chosen" : "pick"}
                  aria-pressed={performance?.id === p.id}
                  data-testid={`pick-performance-${p.id}`}
                  disabled={p.cancelled}
                  onClick={() => pickPerformance(p)}
                >
                  {dateTime(p.starts_at_ms)}
                  {p.cancelled && ` · ${tr("취소됨", "called off")}`}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      {doorInfo && (
        <>
          <h2 id="pick-gate">{tr("3. 게이트", "3. Gate")}</h2>
          <p class="muted">
            {tr(`입장 시작 ${dateTime(doorInfo.doors_open_ms)}`, `Doors open ${dateTime(doorInfo.doors_open_ms)}`)}
            {doorInfo.reentry ? ` · ${tr("재입장 가능", "re-entry allowed")}` : ""}
          </p>
          <ul class="pick-list" aria-labelledby="pick-gate">
            {gates.map((g) => (
              <li key={g.id}>
                <button type="button" class="pick" data-testid="pick-gate" data-gate={String(g.id)} onClick={() => pickGate(g.id, g.label)}>
                  {g.label}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      {loading && <Loading />}
    </section>
  );
}
