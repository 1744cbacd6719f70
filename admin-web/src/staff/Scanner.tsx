import { tr } from "../lib/i18n";
import { Layout } from "../ui/Layout";

export function Scanner() {
  return (
    <Layout home="/staff/" brand={tr("Picket 입장 확인", "Picket door")}>
      <h1>{tr("입장 확인", "Door")}</h1>
    </Layout>
  );
}
