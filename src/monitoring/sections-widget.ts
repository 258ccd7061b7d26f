/**
 * The platform dashboard's layout: titled sections (API Gateway, Services, Database, Kafka, Spring
 * Cloud Data Flow, Deployments, then any other) laid out when the template is written. Not part of
 * the library's API.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** Sections in the order a request travels; any other section follows them in the order added. */
const SECTION_ORDER = ['API Gateway', 'Services', 'Database', 'Kafka', 'Spring Cloud Data Flow', 'Deployments'];

/** Dashboard grid width (CloudWatch dashboards are 24 units wide). */
const GRID_WIDTH = 24;

/**
 * One dashboard widget that lays out titled sections when the template is written, so that rows
 * added later (services added after the platform) still appear in the order of the request path.
 */
export class SectionsWidget implements cloudwatch.IWidget {
  public readonly warnings?: string[] = undefined;
  public readonly warningsV2?: { [id: string]: string } = undefined;
  private column?: cloudwatch.Column;
  private laidOut = -1;

  constructor(private readonly sections: () => ReadonlyMap<string, cloudwatch.IWidget[]>) {}

  public get width(): number {
    return GRID_WIDTH;
  }

  public get height(): number {
    return this.layout().height;
  }

  public position(x: number, y: number): void {
    this.layout().position(x, y);
  }

  public toJson(): any[] {
    return this.layout().toJson();
  }

  /** How many widgets and metrics (metric-math inputs and queries included) the dashboard gets. */
  public count(): { widgets: number; metrics: number } {
    const widgets = this.layout().toJson();
    const metrics = widgets.reduce((n, widget) => n + (widget.properties?.metrics?.length ?? 0), 0);
    return { widgets: widgets.length, metrics };
  }

  /** Laid out again whenever widgets were added since, so that position() and toJson() agree. */
  private layout(): cloudwatch.Column {
    const sections = this.sections();
    const count = [...sections.values()].reduce((n, widgets) => n + widgets.length, 0);
    if (!this.column || count !== this.laidOut) {
      this.laidOut = count;
      const titles = [...sections.keys()].sort((a, b) => rank(a) - rank(b));
      const rows: cloudwatch.IWidget[] = [];
      for (const title of titles) {
        const widgets = sections.get(title) ?? [];
        if (widgets.length > 0) {
          rows.push(new cloudwatch.TextWidget({ markdown: `## ${title}`, width: GRID_WIDTH, height: 1 }));
          // A row wraps onto the next line when the 24 units are full.
          rows.push(new cloudwatch.Row(...widgets));
        }
      }
      this.column = new cloudwatch.Column(...rows);
    }
    return this.column;
  }
}

function rank(title: string): number {
  const index = SECTION_ORDER.indexOf(title);
  return index === -1 ? SECTION_ORDER.length : index;
}
