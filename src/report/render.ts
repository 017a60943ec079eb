/**
 * Rendering a Vega-Lite spec to SVG in Node: vega-lite compile + a headless
 * vega View (renderer 'none'). Node has no canvas, so vega estimates text
 * widths instead of measuring them; layout is slightly less tight than in a
 * browser, but it does not fail.
 */
import { compile } from 'vega-lite';
import { parse, View } from 'vega';
import { ConmigError } from '../model/errors.ts';
import type { VegaLiteTopLevelSpec } from './charts.ts';

export async function renderSvg(spec: VegaLiteTopLevelSpec): Promise<string> {
  let view: View | undefined;
  try {
    const vg = compile(spec).spec;
    view = new View(parse(vg), { renderer: 'none' });
    return await view.toSVG();
  } catch (cause) {
    const title = typeof spec.title === 'string' ? spec.title : '(untitled)';
    throw new ConmigError('RESULT_INVALID', `cannot render chart "${title}": ${(cause as Error).message}`, {
      context: { chart: title },
      cause,
    });
  } finally {
    view?.finalize();
  }
}
