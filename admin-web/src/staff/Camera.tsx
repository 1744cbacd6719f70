// The camera: the back camera's frames, read a few times a second by the same decoder as a
// picture. A code held in view is read once, not at every frame.

import { useEffect, useRef, useState } from "preact/hooks";
import { tr } from "../lib/i18n";
import { decodeQr } from "./decode";

/** Pause between two frames read: enough for a door, light on a phone's battery. */
const FRAME_INTERVAL_MS = 200;
/** The same code seen again within this is the same ticket still in front of the camera. */
const SAME_CODE_QUIET_MS = 4_000;

function cameraError(error: unknown): string {
  const name = error instanceof DOMException ? error.name : "";
  if (name === "NotAllowedError") return tr("카메라 권한을 허용해 주세요 (브라우저 설정).", "Allow the camera in the browser's settings.");
  if (name === "NotFoundError" || name === "OverconstrainedError") return tr("카메라를 찾을 수 없습니다. 사진으로 스캔하세요.", "No camera found. Scan a picture instead.");
  if (name === "NotReadableError") return tr("다른 앱이 카메라를 쓰고 있습니다.", "Another app is using the camera.");
  return tr("카메라를 켤 수 없습니다. 사진으로 스캔하세요.", "The camera could not start. Scan a picture instead.");
}

export function Camera(props: { onCode: (code: string) => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [error, setError] = useState<string | null>(null);
  const onCode = useRef(props.onCode);
  onCode.current = props.onCode;

  async function start() {
    setError(null);
    if (!navigator.mediaDevices?.getUserMedia) {
      // Browsers give the camera only to secure pages (https, or this device itself).
      setError(tr("이 주소에서는 카메라를 쓸 수 없습니다 (HTTPS 필요).", "The camera needs a secure (HTTPS) address."));
      return;
    }
    try {
      setStream(await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }));
    } catch (caught) {
      setError(cameraError(caught));
    }
  }

  function stop() {
    stream?.getTracks().forEach((track) => track.stop());
    setStream(null);
  }

  useEffect(() => {
    const element = video.current;
    if (!stream || !element) return;
    element.srcObject = stream;
    void element.play().catch(() => undefined);
    let running = true;
    let last = { code: "", atMs: 0 };
    const tick = async () => {
      if (!running) return;
      if (element.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA) {
        try {
          const code = await decodeQr(element, element.videoWidth, element.videoHeight);
          const now = Date.now();
          if (code && (code !== last.code || now - last.atMs > SAME_CODE_QUIET_MS)) onCode.current(code);
          if (code) last = { code, atMs: now };
        } catch {
          // A frame the decoder could not take (the camera resizing): the next one will do.
        }
      }
      if (running) setTimeout(tick, FRAME_INTERVAL_MS);
    };
    void tick();
    return () => {
      running = false;
    };
  }, [stream]);

  useEffect(() => () => stream?.getTracks().forEach((track) => track.stop()), [stream]);

  return (
    <div class="camera">
      <div class={stream ? "camera-view on" : "camera-view"}>
        <video ref={video} muted playsInline aria-label={tr("카메라 화면", "Camera view")} />
        {!stream && <span class="muted">{tr("카메라 꺼짐", "Camera off")}</span>}
      </div>
      {stream ? (
        <button type="button" class="secondary wide" onClick={stop}>
          {tr("카메라 끄기", "Stop camera")}
        </button>
      ) : (
        <button type="button" class="wide" onClick={start}>
          {tr("카메라로 스캔", "Scan with the camera")}
        </button>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
