import { Enums, RenderingEngine, type Types } from '@cornerstonejs/core';
import { Enums as ToolEnums, ToolGroupManager, type Types as ToolTypes } from '@cornerstonejs/tools';
import { PRIMARY_TOOLS, type PrimaryTool } from './cornerstone.setup.js';

const { MouseBindings } = ToolEnums;
/** Measurements stay editable (passive) whichever tool has the left button. */
const MEASUREMENTS: PrimaryTool[] = ['length', 'angle', 'ellipse', 'rectangle'];

let seq = 0;

/**
 * One rendering engine and one tool group per open viewer. Buttons: left = the chosen tool, middle = pan,
 * right = zoom, wheel = stack scroll.
 */
export class ViewerEngine {
  readonly id = `medgrid-viewer-${++seq}`;
  readonly engine = new RenderingEngine(this.id);
  readonly tools: ToolTypes.IToolGroup;
  primary: PrimaryTool = 'windowLevel';

  constructor() {
    const group = ToolGroupManager.createToolGroup(`${this.id}-tools`);
    if (!group) throw new Error('tool group exists already');
    this.tools = group;
    for (const name of Object.values(PRIMARY_TOOLS)) group.addTool(name);
    group.setToolActive(PRIMARY_TOOLS.pan, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
    group.setToolActive(PRIMARY_TOOLS.zoom, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
    group.setToolActive(PRIMARY_TOOLS.scroll, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
    for (const m of MEASUREMENTS) group.setToolPassive(PRIMARY_TOOLS[m]);
    group.setToolActive(PRIMARY_TOOLS.windowLevel, { bindings: [{ mouseButton: MouseBindings.Primary }] });
  }

  setPrimary(tool: PrimaryTool): void {
    if (tool === this.primary) return;
    // Passive drops only the left-button binding; middle/right/wheel bindings of pan, zoom, scroll stay.
    this.tools.setToolPassive(PRIMARY_TOOLS[this.primary]);
    this.tools.setToolActive(PRIMARY_TOOLS[tool], { bindings: [{ mouseButton: MouseBindings.Primary }] });
    this.primary = tool;
  }

  enable(viewportId: string, element: HTMLDivElement): Types.IStackViewport {
    this.engine.enableElement({
      viewportId,
      element,
      type: Enums.ViewportType.STACK,
      defaultOptions: { background: [0, 0, 0] },
    });
    this.tools.addViewport(viewportId, this.id);
    return this.viewport(viewportId)!;
  }

  viewport(viewportId: string): Types.IStackViewport | undefined {
    return this.engine.getViewport(viewportId) as Types.IStackViewport | undefined;
  }

  disable(viewportId: string): void {
    this.tools.removeViewports(this.id, viewportId);
    this.engine.disableElement(viewportId);
  }

  destroy(): void {
    ToolGroupManager.destroyToolGroup(this.tools.id);
    this.engine.destroy();
  }
}
