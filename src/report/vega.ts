/**
 * What every chart of every page is: a Vega-Lite spec with its data inlined,
 * written for the one Vega-Lite version conmig renders with (package.json's
 * vega-lite, major 6), under an id (the file stem of charts/<id>.svg) and a
 * title (the heading above it in a page).
 */
import type { TopLevelSpec } from 'vega-lite';

export type VegaLiteTopLevelSpec = TopLevelSpec;

/** The `$schema` of every spec: the Vega-Lite major version conmig compiles with. */
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export interface Chart {
  id: string;
  title: string;
  spec: VegaLiteTopLevelSpec;
}

/** A spec without the parts chart() fills in. */
export type ChartBody = TopLevelSpec extends infer T ? (T extends unknown ? Omit<T, '$schema' | 'title'> : never) : never;

/** One datum of inlined data. */
export type Datum = Record<string, string | number | boolean | null>;

/**
 * A chart: `body` under the schema URL and a title (`specTitle`, the one drawn
 * in the SVG, when it should say more than the page heading `title`).
 */
export function chart(id: string, title: string, body: ChartBody, specTitle: string = title): Chart {
  return { id, title, spec: { $schema: VEGA_LITE_SCHEMA, title: specTitle, ...body } as TopLevelSpec };
}

/** JSON-safe number: NaN/±Infinity as null (a gap in a line). */
export function num(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
