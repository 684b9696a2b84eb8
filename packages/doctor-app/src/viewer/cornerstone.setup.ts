import {
  Enums as CoreEnums,
  init as coreInit,
  eventTarget,
  getRenderingCapabilities,
  getShouldUseCPURendering,
  imageLoadPoolManager,
  isCornerstoneInitialized,
  setUseCPURendering,
} from '@cornerstonejs/core';
import { init as loaderInit } from '@cornerstonejs/dicom-image-loader';
import {
  AngleTool,
  addTool,
  EllipticalROITool,
  LengthTool,
  PanTool,
  PlanarRotateTool,
  RectangleROITool,
  StackScrollTool,
  init as toolsInit,
  WindowLevelTool,
  ZoomTool,
} from '@cornerstonejs/tools';
import { renderProbe } from './render-probe.js';

/** The tools the toolbar can make primary (left button); names are Cornerstone's tool names. */
export const PRIMARY_TOOLS = {
  windowLevel: WindowLevelTool.toolName,
  pan: PanTool.toolName,
  zoom: ZoomTool.toolName,
  rotate: PlanarRotateTool.toolName,
  scroll: StackScrollTool.toolName,
  length: LengthTool.toolName,
  angle: AngleTool.toolName,
  ellipse: EllipticalROITool.toolName,
  rectangle: RectangleROITool.toolName,
} as const;
export type PrimaryTool = keyof typeof PRIMARY_TOOLS;

let ready: Promise<void> | null = null;

/**
 * vtk.js asks for its WebGL contexts without `antialias`, so the browser multisamples every frame. A stack image
 * is one axis-aligned textured quad (annotations are SVG), so MSAA changes nothing on screen, but in SwiftShader
 * the multisampled render and its resolve before each frame's copy to the viewport canvas cost real time.
 */
function webglWithoutMsaa(): void {
  const proto = HTMLCanvasElement.prototype;
  const getContext = proto.getContext as (this: HTMLCanvasElement, type: string, options?: object) => unknown;
  proto.getContext = function (this: HTMLCanvasElement, type: string, options?: object) {
    if (type === 'webgl2' || type === 'webgl')
      return getContext.call(this, type, { ...options, antialias: false });
    return getContext.call(this, type, options);
  } as typeof proto.getContext;
}

/**
 * Without a GPU (WebGL on a software rasteriser: SwiftShader, llvmpipe; common on VDI and thin clients) the
 * WebGL path renders each frame in the GPU process and reads it back for the viewport canvas, which cost
 * twice the CPU path's frame time in bench/viewer. A stack image needs no 3D, so those machines draw on the
 * CPU; the e2e suite checks that ROI statistics agree between the paths. `?render=gpu|cpu` overrides.
 */
export function preferCpuRendering(): boolean {
  const forced = new URLSearchParams(window.location.search).get('render');
  if (forced === 'cpu' || forced === 'gpu') return forced === 'cpu';
  const caps = getRenderingCapabilities();
  return !caps.webgl || caps.softwareRasterizer === true;
}

let loaded = 0;

/** Initialises Cornerstone core, tools and the DICOM loader once per page. */
export function initCornerstone(): Promise<void> {
  ready ??= (async () => {
    webglWithoutMsaa();
    if (!isCornerstoneInitialized()) {
      coreInit();
      if (preferCpuRendering()) setUseCPURendering(true, false);
    }
    renderProbe().cpuRendering = getShouldUseCPURendering();
    // Same origin: XHR sends the session cookie; no extra headers needed.
    loaderInit({ maxWebWorkers: Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1)) });
    toolsInit();
    for (const tool of [
      WindowLevelTool,
      PanTool,
      ZoomTool,
      PlanarRotateTool,
      StackScrollTool,
      LengthTool,
      AngleTool,
      EllipticalROITool,
      RectangleROITool,
    ])
      addTool(tool);
    // The whole series is fetched ahead of scrolling; a few parallel requests keep loopback busy.
    imageLoadPoolManager.setMaxSimultaneousRequests(CoreEnums.RequestType.Prefetch, 6);
    imageLoadPoolManager.setMaxSimultaneousRequests(CoreEnums.RequestType.Interaction, 6);
    eventTarget.addEventListener(CoreEnums.Events.IMAGE_LOADED, () => {
      loaded++;
    });
  })();
  return ready;
}

/** Images decoded since the page opened (benchmarks read it). */
export function imagesLoaded(): number {
  return loaded;
}
