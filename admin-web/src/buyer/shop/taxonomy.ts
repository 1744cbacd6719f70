// What shows are filed under and members follow, with their names in both languages. The codes
// are the API's (`picket_api::taxonomy`, the `category`/`region` enums of /api/openapi.json);
// e2e/shop.spec.ts checks this list against the served OpenAPI document.
import { tr } from "../../lib/i18n";

export const CATEGORIES: Record<string, readonly [string, string]> = {
  concert: ["콘서트", "Concert"],
  musical: ["뮤지컬", "Musical"],
  play: ["연극", "Play"],
  classical: ["클래식", "Classical"],
  exhibition: ["전시", "Exhibition"],
  sports: ["스포츠", "Sports"],
  family: ["가족·아동", "Family"],
  festival: ["페스티벌", "Festival"],
};

export const REGIONS: Record<string, readonly [string, string]> = {
  seoul: ["서울", "Seoul"],
  busan: ["부산", "Busan"],
  daegu: ["대구", "Daegu"],
  incheon: ["인천", "Incheon"],
  gwangju: ["광주", "Gwangju"],
  daejeon: ["대전", "Daejeon"],
  ulsan: ["울산", "Ulsan"],
  sejong: ["세종", "Sejong"],
  gyeonggi: ["경기", "Gyeonggi"],
  gangwon: ["강원", "Gangwon"],
  chungbuk: ["충북", "North Chungcheong"],
  chungnam: ["충남", "South Chungcheong"],
  jeonbuk: ["전북", "North Jeolla"],
  jeonnam: ["전남", "South Jeolla"],
  gyeongbuk: ["경북", "North Gyeongsang"],
  gyeongnam: ["경남", "South Gyeongsang"],
  jeju: ["제주", "Jeju"],
};

export function categoryName(code: string): string {
  const pair = CATEGORIES[code];
  return pair ? tr(pair[0], pair[1]) : code;
}

export function regionName(code: string): string {
  const pair = REGIONS[code];
  return pair ? tr(pair[0], pair[1]) : code;
}
