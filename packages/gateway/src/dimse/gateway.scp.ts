import dcmjsDimse from 'dcmjs-dimse';

const { Scp, responses, constants } = dcmjsDimse;
const { CEchoResponse } = responses;
const {
  Status,
  PresentationContextResult,
  RejectResult,
  RejectSource,
  RejectReason,
  SopClass,
  TransferSyntax,
} = constants;

export interface ScpPolicy {
  aeTitle: string;
  allowedCallingAeTitles: string[];
  onAssociation?: (info: { callingAeTitle: string; accepted: boolean; reason?: string }) => void;
}

const UNCOMPRESSED = new Set<string>([
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
]);

/**
 * The gateway's DIMSE service provider. This foundation answers C-ECHO and enforces the called
 * and calling AE titles; storage, query and retrieve come with the gateway issue.
 */
export function createGatewayScp(policy: ScpPolicy): typeof Scp {
  return class GatewayScp extends Scp {
    override associationRequested(
      association: InstanceType<typeof dcmjsDimse.association.Association>,
    ): void {
      const calling = association.getCallingAeTitle().trim();
      const called = association.getCalledAeTitle().trim();
      if (called !== policy.aeTitle) {
        policy.onAssociation?.({
          callingAeTitle: calling,
          accepted: false,
          reason: 'called AE title not recognised',
        });
        this.sendAssociationReject(
          RejectResult.Permanent,
          RejectSource.ServiceUser,
          RejectReason.CalledAeNotRecognized,
        );
        return;
      }
      if (policy.allowedCallingAeTitles.length && !policy.allowedCallingAeTitles.includes(calling)) {
        policy.onAssociation?.({
          callingAeTitle: calling,
          accepted: false,
          reason: 'calling AE title not allowed',
        });
        this.sendAssociationReject(
          RejectResult.Permanent,
          RejectSource.ServiceUser,
          RejectReason.CallingAeNotRecognized,
        );
        return;
      }
      for (const c of association.getPresentationContexts()) {
        const ctx = association.getPresentationContext(c.id);
        if (ctx.getAbstractSyntaxUid() !== SopClass.Verification) {
          ctx.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
          continue;
        }
        const ts = ctx.getTransferSyntaxUids().find((t: string) => UNCOMPRESSED.has(t));
        if (ts) ctx.setResult(PresentationContextResult.Accept, ts);
        else ctx.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
      }
      policy.onAssociation?.({ callingAeTitle: calling, accepted: true });
      this.sendAssociationAccept();
    }

    override cEchoRequest(
      request: InstanceType<typeof dcmjsDimse.requests.CEchoRequest>,
      callback: (r: InstanceType<typeof CEchoResponse>) => void,
    ): void {
      const response = CEchoResponse.fromRequest(request);
      response.setStatus(Status.Success);
      callback(response);
    }

    override associationReleaseRequested(): void {
      this.sendAssociationReleaseResponse();
    }
  };
}
